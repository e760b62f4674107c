/**
 * Training on a training set built by the real feature store: flights trips and labelled entity
 * rows (from vega-datasets, written with chDB) are served by a stand-in for ingestion; the
 * feature store (child process) applies a feature view, materializes it and joins a training set
 * point in time; the training service downloads it, trains a GBDT and registers a version whose
 * lineage names the training set, both dataset versions and the feature view version. Real: the
 * feature store, training, the registry, PostgreSQL, Kafka, chDB; stood in for: ingestion.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, eventually, freePort, testInfra, uniqueName } from '@loopline/testing';
import { finishedRun, repoRoot, rest, startRegistryProcess, startTraining, testDataDir, type RunJson, type TrainingUnderTest } from './harness';

const definitions = `entities:
  - name: origin
    join_keys: [origin]
    description: departure airport
feature_views:
  - name: origin_delays
    entities: [origin]
    source: trips
    timestamp_column: date
    ttl: 48h
    features:
      - name: mean_delay_24h
        aggregate: mean
        expression: delay
        window: 24h
      - name: flights_24h
        aggregate: count
        window: 24h
`;

describe('training on a training set of the real feature store', () => {
  const dataDir = testDataDir('training_fs');
  const versions = new Map<string, { source: string; path: string; sha256: string }>();
  let ingestion: Server;
  let featureStore: ChildProcess;
  let featureStoreUrl: string;
  let registry: Awaited<ReturnType<typeof startRegistryProcess>>;
  let training: TrainingUnderTest;
  const modelName = uniqueName('flights-fs').replace(/_/g, '-');

  before(async () => {
    const folder = join(dataDir, 'data');
    mkdirSync(folder, { recursive: true });
    const written = spawnSync(process.execPath, ['-r', '@swc-node/register', join(__dirname, 'flights-parquet.ts'), folder, '6000'], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(written.status, 0, written.stderr);
    for (const source of ['trips', 'labels']) {
      const path = join(folder, `${source}.parquet`);
      const sha256 = createHash('sha256').update(readFileSync(path)).digest('hex');
      versions.set(`${source}/${sha256}`, { source, path, sha256 });
    }
    ingestion = createServer((request, response) => {
      const match = /^\/v1\/sources\/([^/]+)\/versions\/([^/]+)(\/data)?$/.exec(request.url ?? '');
      const version = match && versions.get(`${match[1]}/${match[2]}`);
      if (!version) return void response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"unknown version"}');
      if (match[3]) return void createReadStream(version.path).pipe(response.writeHead(200, { 'content-type': 'application/vnd.apache.parquet', 'x-loopline-sha256': version.sha256 }));
      response.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({ source: version.source, versionId: version.sha256, sha256: version.sha256, rowCount: 0, columns: [], eventTimeColumn: 'date', entityColumns: [], createdAt: new Date().toISOString(), artifact: {} }),
      );
    });
    await new Promise<void>((resolve) => ingestion.listen(0, '127.0.0.1', resolve));
    const httpPort = await freePort();
    featureStoreUrl = `http://127.0.0.1:${httpPort}`;
    featureStore = spawn(process.execPath, ['-r', '@swc-node/register', join(repoRoot, 'services', 'feature-store', 'src', 'main.ts')], {
      cwd: repoRoot,
      stdio: 'ignore',
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        LOOPLINE_HOST: '127.0.0.1',
        LOOPLINE_FEATURE_STORE_HTTP_PORT: String(httpPort),
        LOOPLINE_FEATURE_STORE_GRPC_PORT: String(await freePort()),
        LOOPLINE_POSTGRES_URL: await createTestDatabase('training_fs_store'),
        LOOPLINE_KAFKA_BROKERS: testInfra().kafkaBrokers.join(','),
        LOOPLINE_DATA_DIR: join(dataDir, 'feature-store'),
        LOOPLINE_LOG_LEVEL: 'warn',
        LOOPLINE_INGESTION_URL: `http://127.0.0.1:${(ingestion.address() as AddressInfo).port}`,
        LOOPLINE_FEATURE_STORE_CONSUME_DATASET_EVENTS: 'false',
      },
    });
    await eventually(async () => (await fetch(`${featureStoreUrl}/health/ready`).catch(() => undefined))?.status === 200, { timeoutMs: 60_000, what: 'the feature store ready' });
    registry = await startRegistryProcess(join(dataDir, 'registry'));
    training = await startTraining({ registryUrl: registry.url, featureStoreUrl, dataDir: join(dataDir, 'training') });
  });

  after(async () => {
    await training?.stop();
    await registry?.stop();
    if (featureStore && featureStore.exitCode === null) {
      featureStore.kill('SIGTERM');
      await new Promise((resolve) => featureStore.once('exit', resolve));
    }
    await new Promise<void>((resolve) => (ingestion ? ingestion.close(() => resolve()) : resolve()));
  });

  it('trains on the point-in-time training set and registers its full lineage', async () => {
    const trips = [...versions.values()].find((version) => version.source === 'trips')!;
    const labels = [...versions.values()].find((version) => version.source === 'labels')!;
    const applied = await rest(featureStoreUrl, 'POST', '/v1/definitions/apply', { file: definitions, fileName: 'flights.yaml' });
    assert.ok(applied.status < 300, JSON.stringify(applied.body));
    const materialized = await rest(featureStoreUrl, 'POST', '/v1/materializations', { view: 'origin_delays', datasetVersionId: trips.sha256 });
    assert.ok(materialized.status < 300, JSON.stringify(materialized.body));
    const built = await rest<{ id: string; rowCount: number }>(featureStoreUrl, 'POST', '/v1/training-sets', {
      entities: { source: 'labels', versionId: labels.sha256 },
      features: ['origin_delays:mean_delay_24h', 'origin_delays:flights_24h'],
    });
    assert.equal(built.status, 201, JSON.stringify(built.body));

    const started = await rest<RunJson>(training.baseUrl, 'POST', '/v1/training-jobs', {
      experimentName: 'flights-fs',
      modelName,
      trainingSetId: built.body.id,
      trainer: 'builtin/gbdt-classifier',
      params: { rounds: 30, numLeaves: 15 },
      labelColumn: 'label',
      featureColumns: ['distance', 'origin', 'origin_delays__mean_delay_24h', 'origin_delays__flights_24h'],
    });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const run = await finishedRun(training.baseUrl, started.body.runId);
    assert.equal(run.status, 'FINISHED', JSON.stringify(run.error));
    // The default split follows the training set's event-time column (the entity rows' `date`).
    assert.equal(JSON.parse(run.tags['loopline.split']!).timeColumn, 'date');
    const version = (await rest<{ lineage: Record<string, unknown> }>(registry.url, 'GET', `/v1/models/${modelName}/versions/${run.registered!.version}`)).body;
    assert.equal(version.lineage.trainingSetId, built.body.id);
    assert.deepEqual(version.lineage.datasetVersionIds, [labels.sha256, trips.sha256]);
    assert.deepEqual(version.lineage.featureViews, [{ viewName: 'origin_delays', viewVersion: 1 }]);
  });
});
