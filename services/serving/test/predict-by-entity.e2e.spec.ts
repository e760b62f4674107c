/**
 * Predict by entity through the public REST and gRPC surface. Real: the feature store (its own
 * process, on the run's PostgreSQL and Kafka, chDB), the registry (its own process), serving (in
 * this process), ONNX Runtime, Kafka; a GBDT trained here with the platform's own trainer
 * (`@loopline/ml`) on inputs named like the training set's columns; stood in for: ingestion (a
 * small HTTP server handing the feature store the entity rows' Parquet file).
 *
 * The claim under test: serving's answer for an entity is the model's answer on the feature
 * store's online values for that entity — the same as a direct `/v2` infer on those values.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { credentials, loadPackageDefinition, status, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoRoot, TrafficRole } from '@loopline/contracts';
import { categoricalColumn, createDataset, numericColumn, trainAndEvaluate } from '@loopline/ml';
import { createTestDatabase, eventually, freePort, testInfra, uniqueName } from '@loopline/testing';
import { Kafka, logLevel } from 'kafkajs';
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { call, outputNamed, postJson, type HttpAnswer } from './http-client';
import { oipGrpcClient } from './oip-grpc-client';
import { linearClassifier } from './onnx-models';
import { startServing, type ServingUnderTest } from './serving-harness';
import { TopicReader } from './topic-reader';

const root = resolve(__dirname, '..', '..', '..');
const actor = { 'x-loopline-actor': 'user:serving-e2e' };

/** Entity rows after the pushed feature values (so the point-in-time join finds them), within the view's TTL. */
const labelRows = [
  { date: '2027-01-01 10:00:00.000', origin: 'ATL', destination: 'ORD', hour: 10, label: 1 },
  { date: '2027-01-01 11:00:00.000', origin: 'SFO', destination: 'JFK', hour: 11, label: 0 },
  { date: '2027-01-01 12:00:00.000', origin: 'ATL', destination: 'ORD', hour: null, label: 0 },
  { date: '2027-01-01 13:00:00.000', origin: 'JFK', destination: 'ATL', hour: 23, label: 1 },
  { date: '2027-01-01 14:00:00.000', origin: 'ATL', destination: 'ORD', hour: 3, label: 0 },
];

const definitions = `entities:
  - name: route
    join_keys: [origin, destination]
feature_views:
  - name: route_stats
    entities: [route]
    source: trips
    timestamp_column: date
    ttl: 8760h
    features:
      - name: mean_delay
        expression: delay
        type: double
      - name: carrier
        expression: carrier
        type: string
feature_services:
  - name: route_model
    features: [route_stats]
`;

/** The model's inputs: the training set's columns (`view__feature`), a request-time feature and an entity key column. */
const featureColumns = ['route_stats__mean_delay', 'route_stats__carrier', 'hour', 'origin'];

function trainModel(rounds = 20): Uint8Array {
  // Deterministic synthetic rows: delays grow with the mean delay and the hour, DL is late more often.
  const rows = 600;
  const meanDelay: number[] = [];
  const carrier: string[] = [];
  const hour: number[] = [];
  const origin: string[] = [];
  const label: number[] = [];
  for (let row = 0; row < rows; row++) {
    meanDelay.push((row * 37) % 60);
    carrier.push(['DL', 'AA', 'UA'][row % 3]!);
    hour.push((row * 7) % 24);
    origin.push(['ATL', 'ORD', 'SFO', 'JFK'][row % 4]!);
    const score = meanDelay[row]! / 60 + hour[row]! / 48 + (carrier[row] === 'DL' ? 0.3 : 0) + ((row * 13) % 10) / 25;
    label.push(score > 0.9 ? 1 : 0);
  }
  const dataset = createDataset([
    ['route_stats__mean_delay', numericColumn(meanDelay)],
    ['route_stats__carrier', categoricalColumn(carrier)],
    ['hour', numericColumn(hour)],
    ['origin', categoricalColumn(origin)],
    ['label', numericColumn(label)],
  ]);
  return trainAndEvaluate({
    dataset,
    label: 'label',
    features: featureColumns,
    split: { kind: 'random', holdoutFraction: 0.2, seed: 7 },
    trainer: 'gbdt-classifier',
    params: { rounds, numLeaves: 7, minDataInLeaf: 5 },
    seed: 7,
  }).onnx;
}

interface PredictAnswer {
  predictionId: string;
  modelName: string;
  modelVersion: number;
  trafficRole: string;
  outputs: { label: number; probabilities: number[] };
  features: Record<string, { value: unknown; status: string }>;
}

type GrpcUnary = (request: unknown, callback: (error: ServiceError | null, response: Record<string, unknown>) => void) => void;

function predictionClient(address: string): { PredictByEntity: GrpcUnary; close(): void } {
  const definition = loadSync(join(protoRoot, 'loopline/serving/v1/serving_service.proto'), { includeDirs: [protoRoot], keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true });
  const loaded = loadPackageDefinition(definition) as unknown as { loopline: { serving: { v1: { PredictionService: new (address: string, creds: unknown) => { PredictByEntity: GrpcUnary; close(): void } } } } };
  return new loaded.loopline.serving.v1.PredictionService(address, credentials.createInsecure());
}

function unary(client: { PredictByEntity: GrpcUnary }, request: unknown): Promise<Record<string, unknown>> {
  return new Promise((resolvePromise, reject) => client.PredictByEntity(request, (error, response) => (error ? reject(error) : resolvePromise(response))));
}

describe('Serving with the real feature store and registry', () => {
  const infra = testInfra();
  const kafka = new Kafka({ clientId: 'serving-entity-e2e', brokers: infra.kafkaBrokers, logLevel: logLevel.NOTHING });
  const dataDir = join(infra.dataDir, uniqueName('entity'));
  const modelName = uniqueName('route-delay').replace(/_/g, '-');
  const processes: ChildProcess[] = [];
  let ingestion: Server;
  let featureStoreUrl: string;
  let featureStoreGrpc: string;
  let registryUrl: string;
  let serving: ServingUnderTest;
  let predictions: TopicReader<'loopline.serving.predictions.v1'>;
  let trainingSetId: string;
  let modelVersion: number;
  let championBytes: Uint8Array;

  const predictUrl = (suffix = '') => `${serving.httpUrl}/v1/models/${modelName}${suffix}/predict`;

  async function startProcess(name: string, env: Record<string, string>, ready: string): Promise<void> {
    let output = '';
    const child = spawn(process.execPath, ['-r', '@swc-node/register', join(root, 'services', name, 'src', 'main.ts')], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, LOOPLINE_HOST: '127.0.0.1', LOOPLINE_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4_000)));
    child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4_000)));
    processes.push(child);
    await eventually(async () => (await fetch(`${ready}/health/ready`).catch(() => undefined))?.status === 200, { timeoutMs: 90_000, intervalMs: 250, what: `${name} ready` }).catch((error: unknown) => {
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n${output}`);
    });
  }

  before(async () => {
    mkdirSync(join(dataDir, 'inputs'), { recursive: true });
    // The labelled entity rows of the training set, written as Parquet by chDB (in a process of its own).
    const labelsPath = join(dataDir, 'inputs', 'labels.parquet');
    const rowsPath = join(dataDir, 'inputs', 'labels.jsonl');
    writeFileSync(rowsPath, labelRows.map((row) => JSON.stringify(row)).join('\n'));
    const written = spawnSync(process.execPath, ['-r', '@swc-node/register', join(__dirname, 'parquet-tool.ts'), 'write', labelsPath, "date DateTime64(3, 'UTC'), origin String, destination String, hour Nullable(Float64), label UInt8", rowsPath], { cwd: root, encoding: 'utf8' });
    assert.equal(written.status, 0, written.stderr);
    const labelsSha = createHash('sha256').update(readFileSync(labelsPath)).digest('hex');
    ingestion = createServer((request, response) => {
      const match = /^\/v1\/sources\/labels\/versions\/([^/]+)(\/data)?$/.exec(request.url ?? '');
      if (!match || match[1] !== labelsSha) return void response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"unknown version"}');
      if (match[2]) return void createReadStream(labelsPath).pipe(response.writeHead(200, { 'content-type': 'application/vnd.apache.parquet', 'x-loopline-sha256': labelsSha }));
      response.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({ source: 'labels', versionId: labelsSha, sha256: labelsSha, rowCount: labelRows.length, columns: [], eventTimeColumn: 'date', entityColumns: [], createdAt: new Date().toISOString(), artifact: {} }),
      );
    });
    await new Promise<void>((resolvePromise) => ingestion.listen(0, '127.0.0.1', resolvePromise));

    const [storeHttp, storeGrpc, registryHttp, registryGrpc] = [await freePort(), await freePort(), await freePort(), await freePort()];
    featureStoreUrl = `http://127.0.0.1:${storeHttp}`;
    featureStoreGrpc = `127.0.0.1:${storeGrpc}`;
    registryUrl = `http://127.0.0.1:${registryHttp}`;
    await Promise.all([
      startProcess(
        'feature-store',
        {
          LOOPLINE_FEATURE_STORE_HTTP_PORT: String(storeHttp),
          LOOPLINE_FEATURE_STORE_GRPC_PORT: String(storeGrpc),
          LOOPLINE_POSTGRES_URL: await createTestDatabase('serving_entity_store', infra),
          LOOPLINE_KAFKA_BROKERS: infra.kafkaBrokers.join(','),
          LOOPLINE_DATA_DIR: join(dataDir, 'feature-store'),
          LOOPLINE_INGESTION_URL: `http://127.0.0.1:${(ingestion.address() as AddressInfo).port}`,
          LOOPLINE_FEATURE_STORE_CONSUME_DATASET_EVENTS: 'false',
        },
        featureStoreUrl,
      ),
      startProcess(
        'registry',
        {
          LOOPLINE_REGISTRY_HTTP_PORT: String(registryHttp),
          LOOPLINE_REGISTRY_GRPC_PORT: String(registryGrpc),
          LOOPLINE_POSTGRES_URL: await createTestDatabase('serving_entity_registry', infra),
          LOOPLINE_KAFKA_BROKERS: infra.kafkaBrokers.join(','),
          LOOPLINE_DATA_DIR: join(dataDir, 'registry'),
        },
        registryUrl,
      ),
    ]);

    // Features as code, values pushed to both stores (ATL→ORD only), a training set of the feature service.
    const json = async (url: string, method: string, body: unknown) => {
      const response = await fetch(url, { method, headers: { 'content-type': 'application/json', ...actor }, body: JSON.stringify(body) });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const applied = await json(`${featureStoreUrl}/v1/definitions/apply`, 'POST', { file: definitions, fileName: 'routes.yaml' });
    assert.equal(applied.status, 200, JSON.stringify(applied.body));
    const pushed = await json(`${featureStoreUrl}/v1/push`, 'POST', {
      featureView: 'route_stats',
      to: 'online_and_offline',
      rows: [{ origin: 'ATL', destination: 'ORD', event_time: Date.now() - 60_000, mean_delay: 41.5, carrier: 'DL' }],
    });
    assert.equal(pushed.status, 200, JSON.stringify(pushed.body));
    const built = await json(`${featureStoreUrl}/v1/training-sets`, 'POST', { entities: { source: 'labels', versionId: labelsSha }, featureService: 'route_model' });
    assert.equal(built.status, 201, JSON.stringify(built.body));
    trainingSetId = built.body.id as string;
    const columns = (built.body.recipe as { features: { column: string }[] }).features.map((feature) => feature.column);
    assert.deepEqual(columns, ['route_stats__mean_delay', 'route_stats__carrier'], 'the training set names its columns as the model inputs are named');

    // The model, registered with the training set in its lineage, as champion.
    const created = await json(`${registryUrl}/v1/models`, 'POST', { name: modelName });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const form = new FormData();
    form.append('metadata', JSON.stringify({ metrics: { auc: 0.7 }, lineage: { trainingSetId } }));
    championBytes = trainModel();
    form.append('artifact', new Blob([championBytes], { type: 'application/octet-stream' }), 'model.onnx');
    const uploaded = await fetch(`${registryUrl}/v1/models/${modelName}/versions`, { method: 'POST', body: form, headers: actor });
    const version = (await uploaded.json()) as { version: number };
    assert.equal(uploaded.status, 201, JSON.stringify(version));
    modelVersion = version.version;
    const champion = await json(`${registryUrl}/v1/models/${modelName}/aliases/champion`, 'PUT', { version: modelVersion, reason: 'e2e' });
    assert.equal(champion.status, 200, JSON.stringify(champion.body));

    serving = await startServing({
      registryUrl,
      kafkaBrokers: infra.kafkaBrokers,
      dataDir: join(dataDir, 'serving'),
      models: [modelName],
      env: { LOOPLINE_FEATURE_STORE_URL: featureStoreUrl, LOOPLINE_FEATURE_STORE_GRPC_ADDRESS: featureStoreGrpc, LOOPLINE_SERVING_LOG_FLUSH_MS: '10' },
    });
    await eventually(async () => (await call(`${serving.httpUrl}/v2/models/${modelName}/ready`)).status === 200, { timeoutMs: 30_000, what: 'the model served' });
    predictions = await new TopicReader(kafka, 'loopline.serving.predictions.v1', new Set([modelName])).start();
  });

  after(async () => {
    await predictions?.stop();
    await serving?.stop();
    for (const child of processes) {
      if (child.exitCode !== null) continue;
      const exited = new Promise((resolvePromise) => child.once('exit', resolvePromise));
      child.kill('SIGTERM');
      await exited;
    }
    await new Promise<void>((resolvePromise) => (ingestion ? ingestion.close(() => resolvePromise()) : resolvePromise()));
  });

  /** The same prediction through the Open Inference Protocol, inputs given by hand. */
  async function directInfer(values: { meanDelay: number; carrier: string; hour: number; origin: string }): Promise<HttpAnswer> {
    const answer = await postJson(`${serving.httpUrl}/v2/models/${modelName}/infer`, {
      inputs: [
        { name: 'route_stats__mean_delay', datatype: 'FP32', shape: [1, 1], data: [values.meanDelay] },
        { name: 'route_stats__carrier', datatype: 'BYTES', shape: [1, 1], data: [values.carrier] },
        { name: 'hour', datatype: 'FP32', shape: [1, 1], data: [values.hour] },
        { name: 'origin', datatype: 'BYTES', shape: [1, 1], data: [values.origin] },
      ],
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    return answer;
  }

  it("answers with the model's prediction on the entity's online features, as a direct /v2 infer on the same values does", async () => {
    const answer = await postJson(predictUrl(), { entities: { origin: 'ATL', destination: 'ORD' }, features: { hour: 8 } });
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    const body = answer.json as unknown as PredictAnswer;
    assert.equal(body.modelName, modelName);
    assert.equal(body.modelVersion, modelVersion);
    assert.equal(body.trafficRole, 'primary');
    assert.match(body.predictionId, /^[0-9a-f-]{36}$/);
    assert.deepEqual(body.features, {
      route_stats__mean_delay: { value: 41.5, status: 'present' },
      route_stats__carrier: { value: 'DL', status: 'present' },
      hour: { value: 8, status: 'request' },
      origin: { value: 'ATL', status: 'request' },
    });
    const direct = await directInfer({ meanDelay: 41.5, carrier: 'DL', hour: 8, origin: 'ATL' });
    assert.deepEqual(body.outputs.probabilities, outputNamed(direct, 'probabilities').data);
    assert.equal(body.outputs.label, outputNamed(direct, 'label').data[0]);

    // The version path gives the same, and so does naming the feature service explicitly.
    const pinned = await postJson(predictUrl(`/versions/${modelVersion}`), { entities: { origin: 'ATL', destination: 'ORD' }, features: { hour: 8 }, featureService: 'route_model' });
    assert.equal(pinned.status, 200, JSON.stringify(pinned.json));
    assert.deepEqual((pinned.json as unknown as PredictAnswer).outputs, body.outputs);

    // Logged with its entity keys and the joined inputs.
    const logged = await eventually(async () => predictions.events.find((event) => event.message.predictionId === body.predictionId), { timeoutMs: 20_000, what: 'the prediction logged' }).then((event) => event!);
    assert.deepEqual({ ...logged.message.entityKeys }, { origin: 'ATL', destination: 'ORD' });
    assert.equal(logged.message.trafficRole, TrafficRole.PRIMARY);
    assert.deepEqual(logged.message.inputs?.route_stats__mean_delay, [[41.5]]);
  });

  it('reports an unknown entity as missing and predicts with the missing-value encoding (NaN), as the model does on NaN', async () => {
    const answer = await postJson(predictUrl(), { entities: { origin: 'XXX', destination: 'YYY' }, features: { hour: 8, origin: 'ATL' } });
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    const body = answer.json as unknown as PredictAnswer;
    assert.deepEqual(body.features.route_stats__mean_delay, { value: null, status: 'missing' });
    assert.deepEqual(body.features.route_stats__carrier, { value: null, status: 'missing' });
    assert.deepEqual(body.features.origin, { value: 'ATL', status: 'request' }, 'request features win over the entity key of the same name');
    const grpc = oipGrpcClient(serving.grpcAddress);
    try {
      const bytes = (text: string) => {
        const encoded = Buffer.from(text, 'utf8');
        const length = Buffer.alloc(4);
        length.writeUInt32LE(encoded.length);
        return Buffer.concat([length, encoded]);
      };
      const direct = await grpc.ModelInfer({
        model_name: modelName,
        inputs: [
          { name: 'route_stats__mean_delay', datatype: 'FP32', shape: [1, 1] },
          { name: 'route_stats__carrier', datatype: 'BYTES', shape: [1, 1] },
          { name: 'hour', datatype: 'FP32', shape: [1, 1] },
          { name: 'origin', datatype: 'BYTES', shape: [1, 1] },
        ],
        raw_input_contents: [Buffer.from(new Float32Array([Number.NaN]).buffer), bytes(''), Buffer.from(new Float32Array([8]).buffer), bytes('ATL')],
      });
      const outputs = direct.outputs as { name: string }[];
      const index = outputs.findIndex((output) => output.name === 'probabilities');
      const probabilities = [...new Float32Array(new Uint8Array((direct.raw_output_contents as Buffer[])[index]!).buffer)];
      assert.deepEqual(body.outputs.probabilities, probabilities);
    } finally {
      grpc.close();
    }
  });

  it('refuses with 400 naming every input left unbound', async () => {
    const answer = await postJson(predictUrl(), { entities: { origin: 'ATL', destination: 'ORD' } });
    assert.equal(answer.status, 400);
    assert.match(String(answer.json.error), /missing model input 'hour'/);
    const noOrigin = await postJson(predictUrl(), { entities: { destination: 'ORD' }, features: { hour: 3 } });
    assert.equal(noOrigin.status, 400);
    assert.match(String(noOrigin.json.error), /origin/);
    const badType = await postJson(predictUrl(), { entities: { origin: 'ATL', destination: 'ORD' }, features: { hour: 'eight' } });
    assert.equal(badType.status, 400);
    assert.match(String(badType.json.error), /input 'hour'/);
    const unknownService = await postJson(predictUrl(), { entities: { origin: 'ATL', destination: 'ORD' }, features: { hour: 3 }, featureService: 'nope' });
    assert.equal(unknownService.status, 400);
    assert.match(String(unknownService.json.error), /nope/);
    assert.equal((await postJson(`${serving.httpUrl}/v1/models/no-such-model/predict`, { entities: { origin: 'ATL' } })).status, 404);
    assert.equal((await postJson(predictUrl(), { entities: { origin: 'ATL' }, bogus: 1 })).status, 400);
  });

  it('applies the traffic policy as /v2 infer does: a canary challenger answers, a shadow one is logged with the entity keys', async () => {
    const form = new FormData();
    form.append('metadata', JSON.stringify({ lineage: { trainingSetId } }));
    form.append('artifact', new Blob([trainModel(5)], { type: 'application/octet-stream' }), 'model.onnx');
    const uploaded = await fetch(`${registryUrl}/v1/models/${modelName}/versions`, { method: 'POST', body: form, headers: actor });
    const challenger = ((await uploaded.json()) as { version: number }).version;
    const aliased = await fetch(`${registryUrl}/v1/models/${modelName}/aliases/challenger`, { method: 'PUT', headers: { 'content-type': 'application/json', ...actor }, body: JSON.stringify({ version: challenger, reason: 'e2e' }) });
    assert.equal(aliased.status, 200);
    const policy = (canaryPercent: number, shadow: boolean) =>
      fetch(`${serving.httpUrl}/v1/traffic/${modelName}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ canaryPercent, shadow }) });
    assert.equal((await policy(100, false)).status, 200);
    const request = { entities: { origin: 'ATL', destination: 'ORD' }, features: { hour: 8 } };
    const canary = await eventually(async () => {
      const answer = (await postJson(predictUrl(), request)).json as unknown as PredictAnswer;
      return answer.trafficRole === 'canary' ? answer : undefined;
    }, { timeoutMs: 30_000, what: 'the challenger answering as canary' }).then((answer) => answer!);
    assert.equal(canary.modelVersion, challenger);
    assert.deepEqual(canary.features.route_stats__mean_delay, { value: 41.5, status: 'present' });

    assert.equal((await policy(0, true)).status, 200);
    const primary = (await postJson(predictUrl(), request)).json as unknown as PredictAnswer;
    assert.equal(primary.trafficRole, 'primary');
    assert.equal(primary.modelVersion, modelVersion);
    const shadow = await eventually(
      async () => predictions.events.find((event) => event.message.trafficRole === TrafficRole.SHADOW && event.message.entityKeys.origin === 'ATL'),
      { timeoutMs: 20_000, what: 'the shadow prediction logged' },
    ).then((event) => event!);
    assert.equal(shadow.message.modelVersion, challenger);
    assert.deepEqual({ ...shadow.message.entityKeys }, { origin: 'ATL', destination: 'ORD' });
    assert.deepEqual(shadow.message.inputs?.route_stats__carrier, [['DL']]);
    assert.equal((await policy(0, false)).status, 200);
  });

  it('answers the same over gRPC PredictionService/PredictByEntity, and maps a missing input to INVALID_ARGUMENT', async () => {
    const rest = (await postJson(predictUrl(), { entities: { origin: 'ATL', destination: 'ORD' }, features: { hour: 8 } })).json as unknown as PredictAnswer;
    const client = predictionClient(serving.grpcAddress);
    try {
      const response = await unary(client, { model_name: modelName, entities: { origin: 'ATL', destination: 'ORD' }, features: { fields: { hour: { numberValue: 8 } } } });
      assert.equal(response.model_name, modelName);
      assert.equal(response.model_version, modelVersion);
      assert.equal(response.traffic_role, 'TRAFFIC_ROLE_PRIMARY');
      const outputs = (response.outputs as { fields: Record<string, { listValue?: { values: { numberValue: number }[] }; numberValue?: number }> }).fields;
      assert.deepEqual(outputs.probabilities!.listValue!.values.map((value) => value.numberValue), rest.outputs.probabilities);
      assert.equal(outputs.label!.numberValue, rest.outputs.label);
      const features = response.features as Record<string, { value: { stringValue?: string; numberValue?: number }; status: string }>;
      assert.equal(features.route_stats__mean_delay!.status, 'BOUND_FEATURE_STATUS_PRESENT');
      assert.equal(features.route_stats__mean_delay!.value.numberValue, 41.5);
      assert.equal(features.route_stats__carrier!.value.stringValue, 'DL');
      assert.equal(features.hour!.status, 'BOUND_FEATURE_STATUS_REQUEST');

      const missing = await unary(client, { model_name: modelName, entities: { origin: 'ATL', destination: 'ORD' } }).then(
        () => assert.fail('expected INVALID_ARGUMENT'),
        (error: ServiceError) => error,
      );
      assert.equal(missing.code, status.INVALID_ARGUMENT);
      assert.match(missing.details, /'hour'/);
    } finally {
      client.close();
    }
  });

  describe('batch predictions', () => {
    interface JobJson {
      jobId: string;
      status: string;
      phase: string;
      model: { name: string; version: number; alias: string | null };
      progress: { rowsDone: number; rowsTotal: number | null; rowsPerSecond: number };
      keyColumns: string[];
      output: { uri: string; sha256: string; sizeBytes: number; rows: number; columns: string[] } | null;
      error: { code: string; message: string } | null;
    }
    const batchUrl = () => `${serving.httpUrl}/v1/batch-predictions`;
    const finished = (jobId: string) =>
      eventually(async () => {
        const job = (await call(`${batchUrl()}/${jobId}`)).json as unknown as JobJson;
        return job.status === 'succeeded' || job.status === 'failed' ? job : undefined;
      }, { timeoutMs: 60_000, intervalMs: 100, what: `batch job ${jobId} finished` }).then((job) => job!);

    it('scores a training set chunk by chunk into a content-addressed predictions Parquet: keys, then outputs equal to the model run on the same rows', async () => {
      const submitted = await postJson(batchUrl(), { model: modelName, version: modelVersion, input: { trainingSetId }, chunkRows: 2 });
      assert.equal(submitted.status, 202, JSON.stringify(submitted.json));
      const job = await finished(submitted.json.jobId as string);
      assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
      assert.deepEqual(job.model, { name: modelName, version: modelVersion, alias: null });
      assert.equal(job.progress.rowsDone, labelRows.length);
      assert.equal(job.progress.rowsTotal, labelRows.length);
      assert.deepEqual(job.keyColumns, ['date', 'destination', 'label']);
      assert.deepEqual(job.output!.columns, ['date', 'destination', 'label', 'predicted_label', 'probabilities']);
      assert.equal(job.output!.uri, `artifact://serving/sha256/${job.output!.sha256}`);

      const download = await fetch(`${batchUrl()}/${job.jobId}/output`);
      assert.equal(download.status, 200);
      const bytes = Buffer.from(await download.arrayBuffer());
      assert.equal(createHash('sha256').update(bytes).digest('hex'), job.output!.sha256);
      const file = join(dataDir, 'inputs', 'predictions.parquet');
      writeFileSync(file, bytes);
      const read = spawnSync(process.execPath, ['-r', '@swc-node/register', join(__dirname, 'parquet-tool.ts'), 'read', file], { cwd: root, encoding: 'utf8' });
      assert.equal(read.status, 0, read.stderr);
      const parsed = JSON.parse(read.stdout) as { columns: [string, string][]; rows: Record<string, unknown>[] };
      assert.deepEqual(parsed.columns, [
        ['date', "DateTime64(3, 'UTC')"],
        ['destination', 'String'],
        ['label', 'UInt8'],
        ['predicted_label', 'Int64'],
        ['probabilities', 'Array(Float32)'],
      ]);
      assert.deepEqual(parsed.rows.map((row) => [row.date, row.destination, row.label]), labelRows.map((row) => [`${row.date}`, row.destination, row.label]));

      // The model itself (ONNX Runtime, directly) on the rows of the training set: features where the point-in-time join found them (ATL→ORD), missing (NaN, '') elsewhere.
      const session = await InferenceSession.create(championBytes);
      const found = labelRows.map((row) => row.origin === 'ATL' && row.destination === 'ORD');
      const n = labelRows.length;
      const result = await session.run({
        route_stats__mean_delay: new OrtTensor('float32', Float32Array.from(found, (hit) => (hit ? 41.5 : Number.NaN)), [n, 1]),
        route_stats__carrier: new OrtTensor('string', found.map((hit) => (hit ? 'DL' : '')), [n, 1]),
        hour: new OrtTensor('float32', Float32Array.from(labelRows, (row) => (row.hour === null ? Number.NaN : row.hour)), [n, 1]),
        origin: new OrtTensor('string', labelRows.map((row) => row.origin), [n, 1]),
      });
      const probabilities = result.probabilities!.data as Float32Array;
      const labels = result.label!.data as BigInt64Array;
      parsed.rows.forEach((row, index) => {
        assert.equal(row.predicted_label, Number(labels[index]));
        assert.deepEqual((row.probabilities as number[]).map((value) => Math.fround(value)), [probabilities[2 * index], probabilities[2 * index + 1]]);
      });
      await session.release();

      // Content-addressed: the same job again stores the same bytes.
      const again = await finished((await postJson(batchUrl(), { model: modelName, version: modelVersion, input: { trainingSetId }, chunkRows: 3 })).json.jobId as string);
      assert.equal(again.output?.sha256, job.output!.sha256);
    });

    it('names what is wrong: unknown model, input not found, a malformed request, a model whose inputs are not columns of the input', async () => {
      const unknownModel = await postJson(batchUrl(), { model: 'no-such-model', input: { trainingSetId } });
      assert.equal(unknownModel.status, 404);
      assert.match(String(unknownModel.json.error), /no-such-model/);
      const unknownSet = await postJson(batchUrl(), { model: modelName, input: { trainingSetId: '0'.repeat(64) } });
      assert.equal(unknownSet.status, 404);
      assert.match(String(unknownSet.json.error), /training set 0{64}/);
      const malformed = await postJson(batchUrl(), { model: modelName, input: { datasetVersionId: 'x' } });
      assert.equal(malformed.status, 400);
      assert.match(String(malformed.json.error), /input\.source/);
      assert.equal((await postJson(batchUrl(), { model: modelName, version: 1, alias: 'champion', input: { trainingSetId } })).status, 400);
      assert.equal((await call(`${batchUrl()}/not-a-job`)).status, 404);

      const other = uniqueName('linear').replace(/_/g, '-');
      await fetch(`${registryUrl}/v1/models`, { method: 'POST', headers: { 'content-type': 'application/json', ...actor }, body: JSON.stringify({ name: other }) });
      const form = new FormData();
      form.append('metadata', JSON.stringify({}));
      form.append('artifact', new Blob([linearClassifier({ features: 2, weights: [1, 0, 0, 1], bias: [0, 0] })], { type: 'application/octet-stream' }), 'model.onnx');
      const uploaded = await fetch(`${registryUrl}/v1/models/${other}/versions`, { method: 'POST', body: form, headers: actor });
      assert.equal(uploaded.status, 201);
      const submitted = await postJson(batchUrl(), { model: other, version: 1, input: { trainingSetId } });
      assert.equal(submitted.status, 202, JSON.stringify(submitted.json));
      const job = await finished(submitted.json.jobId as string);
      assert.equal(job.status, 'failed');
      assert.equal(job.error?.code, 'SIGNATURE_MISMATCH');
      assert.match(job.error!.message, /'features'/);
    });
  });
});
