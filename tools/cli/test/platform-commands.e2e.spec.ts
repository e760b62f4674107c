/**
 * The platform commands as a user runs them (`bin/loopline.js`, a process of its own), against
 * real services started as their own processes: ingestion receives two CSV sources, the feature
 * store materializes a view and joins a training set, training trains a GBDT and registers it,
 * the registry gates promotions, serving serves the champion. The CLI is then exercised on
 * `models ls|show|history|promote`, `runs ls|show|logs`, `predict` (Open Inference Protocol) and
 * `lineage --model`, and on bad arguments and a service that is down.
 * Real: every service used, PostgreSQL, Kafka, chDB, ONNX Runtime. Nothing is stood in for.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort, uniqueName, eventually } from '@loopline/testing';
import { cli, describeResult, rest, startServiceProcess, testFolder, type ServiceProcess } from './platform-services';

const definitions = (source: string) => `entities:
  - name: origin
    join_keys: [origin]
feature_views:
  - name: origin_delays
    entities: [origin]
    source: ${source}
    timestamp_column: date
    features:
      - name: mean_delay_24h
        aggregate: mean
        expression: delay
        window: 24h
      - name: flights_24h
        aggregate: count
        window: 24h
`;

/** Deterministic synthetic flights: ORD and long flights run late more often. */
function flights(rows: number): { trips: string; labels: string } {
  let seed = 7;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  const origins = ['ATL', 'ORD', 'SFO'];
  const destinations = ['DFW', 'LAX', 'JFK', 'SEA'];
  const trips = ['date,delay,distance,origin,destination'];
  const labels = ['date,origin,distance,label'];
  const start = Date.parse('2001-01-01T00:00:00Z');
  for (let row = 0; row < rows; row += 1) {
    const date = new Date(start + row * 20 * 60_000).toISOString().replace('T', ' ').slice(0, 19);
    const origin = origins[row % 3]!;
    const distance = 300 + Math.floor(random() * 2000);
    const delay = Math.floor(random() * 40) - 10 + (origin === 'ORD' ? 12 : 0) + (distance > 1500 ? 10 : 0);
    trips.push(`${date},${delay},${distance},${origin},${destinations[row % 4]}`);
    labels.push(`${date},${origin},${distance},${delay > 15 ? 1 : 0}`);
  }
  return { trips: `${trips.join('\n')}\n`, labels: `${labels.join('\n')}\n` };
}

describe('loopline models, runs, predict and lineage against the real services', () => {
  const dataDir = testFolder('cli_platform');
  const model = uniqueName('cli-delay').replace(/_/g, '-').toLowerCase();
  const experiment = uniqueName('cli_exp');
  const tripsSource = uniqueName('trips').replace(/_/g, '-');
  const labelsSource = uniqueName('labels').replace(/_/g, '-');
  const services: ServiceProcess[] = [];
  let env: Record<string, string>;
  let registryUrl: string;
  let servingUrl: string;
  let featureStoreUrl: string;
  let runId: string;
  let trainingSetId: string;
  let datasetIds: { trips: string; labels: string };
  let v1Auc: number;

  before(async () => {
    const [ingestion, registry] = await Promise.all([startServiceProcess('ingestion', dataDir), startServiceProcess('registry', dataDir)]);
    services.push(ingestion, registry);
    const featureStore = await startServiceProcess('feature-store', dataDir, { LOOPLINE_INGESTION_URL: ingestion.url, LOOPLINE_FEATURE_STORE_CONSUME_DATASET_EVENTS: 'false' });
    services.push(featureStore);
    const [serving, training] = await Promise.all([
      startServiceProcess('serving', dataDir, {
        LOOPLINE_REGISTRY_URL: registry.url,
        LOOPLINE_SERVING_MODELS: model,
        LOOPLINE_FEATURE_STORE_URL: featureStore.url,
        LOOPLINE_FEATURE_STORE_GRPC_ADDRESS: `127.0.0.1:${featureStore.grpcPort}`,
      }),
      startServiceProcess('training', dataDir, {
        LOOPLINE_REGISTRY_URL: registry.url,
        LOOPLINE_FEATURE_STORE_URL: featureStore.url,
        LOOPLINE_TRAINING_CODE_COMMIT: '5eed1e55c0de',
        LOOPLINE_TRAINING_TASKS: 'false',
        LOOPLINE_TRAINING_WORKERS: '1',
      }),
    ]);
    services.push(serving, training);
    registryUrl = registry.url;
    servingUrl = serving.url;
    featureStoreUrl = featureStore.url;
    env = {
      LOOPLINE_INGESTION_URL: ingestion.url,
      LOOPLINE_FEATURE_STORE_URL: featureStore.url,
      LOOPLINE_TRAINING_URL: training.url,
      LOOPLINE_REGISTRY_URL: registry.url,
      LOOPLINE_SERVING_URL: serving.url,
      // Nothing listens there: the orchestration and monitoring links are not needed by this flow.
      LOOPLINE_ORCHESTRATION_URL: `http://127.0.0.1:${await freePort()}`,
      LOOPLINE_MONITORING_URL: `http://127.0.0.1:${await freePort()}`,
    };

    // The data, through the public APIs: two sources, a view, a training set, a training job.
    const data = flights(600);
    const columns = {
      [tripsSource]: [
        { name: 'date', type: 'timestamp', nullable: false },
        { name: 'delay', type: 'int64', nullable: false },
        { name: 'distance', type: 'int64', nullable: false },
        { name: 'origin', type: 'string', nullable: false },
        { name: 'destination', type: 'string', nullable: false },
      ],
      [labelsSource]: [
        { name: 'date', type: 'timestamp', nullable: false },
        { name: 'origin', type: 'string', nullable: false },
        { name: 'distance', type: 'int64', nullable: false },
        { name: 'label', type: 'int64', nullable: false },
      ],
    };
    const versionIds: Record<string, string> = {};
    for (const [source, csv] of [
      [tripsSource, data.trips],
      [labelsSource, data.labels],
    ] as const) {
      const put = await rest(ingestion.url, 'PUT', `/v1/sources/${source}`, { columns: columns[source], eventTimeColumn: 'date', entityColumns: ['origin'], policy: {} });
      assert.ok(put.status < 300, JSON.stringify(put.body));
      const upload = await fetch(`${ingestion.url}/v1/sources/${source}/uploads`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: csv });
      const uploaded = (await upload.json()) as { versionId: string; status: string };
      assert.equal(upload.status, 201, JSON.stringify(uploaded));
      versionIds[source] = uploaded.versionId;
    }
    datasetIds = { trips: versionIds[tripsSource]!, labels: versionIds[labelsSource]! };
    const applied = await rest(featureStore.url, 'POST', '/v1/definitions/apply', { file: definitions(tripsSource), fileName: 'flights.yaml' });
    assert.equal(applied.status, 200, JSON.stringify(applied.body));
    const materialized = await rest(featureStore.url, 'POST', '/v1/materializations', { view: 'origin_delays', datasetVersionId: datasetIds.trips });
    assert.equal(materialized.status, 200, JSON.stringify(materialized.body));
    const built = await rest<{ id: string }>(featureStore.url, 'POST', '/v1/training-sets', {
      entities: { source: labelsSource, versionId: datasetIds.labels },
      features: ['origin_delays:mean_delay_24h', 'origin_delays:flights_24h'],
    });
    assert.equal(built.status, 201, JSON.stringify(built.body));
    trainingSetId = built.body.id;
    const started = await rest<{ runId: string }>(training.url, 'POST', '/v1/training-jobs', {
      experimentName: experiment,
      modelName: model,
      trainingSetId,
      trainer: 'builtin/gbdt-classifier',
      params: { rounds: 20, numLeaves: 7 },
      labelColumn: 'label',
      featureColumns: ['distance', 'origin', 'origin_delays__mean_delay_24h', 'origin_delays__flights_24h'],
      runName: 'cli-e2e',
    });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    runId = started.body.runId;
    const run = await eventually<{ status: string; error: unknown; registered: { version: number } | null }>(
      async () => {
        const current = await rest<{ status: string; error: unknown; registered: { version: number } | null }>(training.url, 'GET', `/v1/runs/${runId}`);
        if (current.body.status === 'RUNNING') throw new Error('still running');
        return current.body;
      },
      { timeoutMs: 180_000, intervalMs: 500, what: 'the training run ended' },
    );
    assert.equal(run.status, 'FINISHED', JSON.stringify(run.error));
    assert.equal(run.registered?.version, 1);
    const version = await rest<{ metrics: Record<string, number> }>(registryUrl, 'GET', `/v1/models/${model}/versions/1`);
    v1Auc = version.body.metrics.auc!;
    assert.equal(typeof v1Auc, 'number', JSON.stringify(version.body.metrics));
    const policy = await rest(registryUrl, 'PUT', `/v1/models/${model}/promotion-policy`, {
      thresholds: [{ metric: 'auc', direction: 'HIGHER_IS_BETTER', lowerBound: 0.3, minImprovement: 0.05 }],
    });
    assert.equal(policy.status, 200, JSON.stringify(policy.body));
  });

  after(async () => {
    await Promise.all(services.map((service) => service.stop()));
  });

  describe('when the arguments are wrong', () => {
    it('exits 2 with the problem and the usage, before calling any service', async () => {
      const cases: [string[], RegExp][] = [
        [['models', 'promote', model], /promote <name> <version>: expected a version number/],
        [['models', 'show'], /show: give one model/],
        [['models', 'history', model, '--at', 'yesterday'], /--at "yesterday": expected an ISO-8601 time/],
        [['models', 'promote', model, '2', '--force'], /--force moves the alias without the gate: say why with --reason/],
        [['models', 'ls', '--colour'], /Unknown option '--colour'/],
        [['runs', 'ls', '--status', 'done'], /--status must be one of RUNNING, FINISHED, FAILED, KILLED/],
        [['predict', model], /give the inputs \(--input name=value\) or the entity/],
        [['predict', model, '--input', 'distance'], /--input "distance": expected name=value/],
        [['predict', model, '--input', 'a=1', '--entity', 'origin=ATL'], /either --input .* or --entity/],
        [['alerts', 'dismiss', 'a1'], /dismiss: say why with --reason/],
        [['alerts', 'ls', '--status', 'closed'], /--status must be one of open, acknowledged, resolved/],
        [['lineage'], /give a prediction id, or --model/],
        [['lineage', 'p1', '--model', `${model}:1`], /a prediction id or --model, not both/],
      ];
      for (const [args, message] of cases) {
        const result = await cli(env, ...args);
        assert.equal(result.status, 2, `${args.join(' ')}: ${describeResult(result)}`);
        assert.match(result.stderr, message, args.join(' '));
        assert.match(result.stderr, /usage: loopline/, args.join(' '));
      }
    });
  });

  describe('when a service is down', () => {
    it('says which service does not answer and where, in one line, and exits 1', async () => {
      const down = env.LOOPLINE_MONITORING_URL!;
      const result = await cli({ ...env, LOOPLINE_REGISTRY_URL: down }, 'models', 'ls');
      assert.equal(result.status, 1, describeResult(result));
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`registry does not answer at ${down.replace(/\./g, '\\.')} \\(ECONNREFUSED\\)`));
      const lineage = await cli(env, 'lineage', 'some-prediction');
      assert.equal(lineage.status, 1, describeResult(lineage));
      assert.match(lineage.stderr, /monitoring does not answer at http:\/\/127\.0\.0\.1:\d+/);
    });
  });

  describe('models', () => {
    it('lists the registered model and shows its trained version with signature, metrics and lineage', async () => {
      const list = await cli(env, 'models', 'ls');
      assert.equal(list.status, 0, describeResult(list));
      assert.match(list.stdout, /^NAME\s+LATEST\s+ALIASES/m);
      assert.match(list.stdout, new RegExp(`^${model}\\s+v1\\s+-`, 'm'));
      const json = JSON.parse((await cli(env, 'models', 'ls', '--json')).stdout) as { models: { name: string; latestVersion: number }[] };
      assert.equal(json.models.find((entry) => entry.name === model)?.latestVersion, 1);

      const show = await cli(env, 'models', 'show', `${model}:1`);
      assert.equal(show.status, 0, describeResult(show));
      assert.match(show.stdout, /input\s+distance FP32\[\?,1\]/);
      assert.match(show.stdout, /input\s+origin BYTES\[\?,1\]/);
      assert.match(show.stdout, new RegExp(`auc\\s+${String(v1Auc).replace('.', '\\.')}`));
      assert.match(show.stdout, new RegExp(`training run\\s+${runId} \\(experiment ${experiment}\\)`));
      assert.match(show.stdout, new RegExp(`training set\\s+${trainingSetId}`));
      assert.match(show.stdout, /feature views\s+origin_delays v1/);
      assert.match(show.stdout, /pipeline run\s+\(absent\)/);
      assert.match(show.stdout, /code commit\s+5eed1e55c0de/);

      const missing = await cli(env, 'models', 'show', 'no-such-model');
      assert.equal(missing.status, 1, describeResult(missing));
      assert.match(missing.stderr, /loopline models: no registered model named "no-such-model"/);
    });

    it('promotes through the gate, prints its evidence, and refuses a version that is not better enough', async () => {
      const first = await cli(env, 'models', 'promote', model, '1', '--reason', 'first release');
      assert.equal(first.status, 0, describeResult(first));
      assert.match(first.stdout, new RegExp(`${model}: champion → v1`));
      assert.match(first.stdout, /gate "default" PASSED version 1 \(no version holds "champion"/);
      assert.match(first.stdout, /✔ auc >= 0\.3/);

      // Version 2: the same model, uploaded by hand with an AUC only 0.01 better.
      const artifact = Buffer.from(await (await fetch(`${registryUrl}/v1/models/${model}/versions/1/artifact`)).arrayBuffer());
      // Idempotent (Idempotency-Key): a connection reset under load is retried safely.
      const uploaded = await eventually(
        async () => {
          const form = new FormData();
          form.append('metadata', JSON.stringify({ metrics: { auc: v1Auc + 0.01 }, description: 'hand-tuned' }));
          form.append('artifact', new Blob([artifact], { type: 'application/octet-stream' }), 'model.onnx');
          return fetch(`${registryUrl}/v1/models/${model}/versions`, { method: 'POST', body: form, headers: { 'idempotency-key': `${model}-v2` } });
        },
        { timeoutMs: 30_000, intervalMs: 500, what: 'version 2 uploaded' },
      );
      assert.equal(uploaded.status, 201, await uploaded.text());

      const dryRun = await cli(env, 'models', 'promote', `${model}:2`, '--dry-run');
      assert.equal(dryRun.status, 1, describeResult(dryRun));
      assert.match(dryRun.stdout, /dry run, nothing recorded or moved/);

      const refused = await cli(env, 'models', 'promote', model, '2');
      assert.equal(refused.status, 1, describeResult(refused));
      assert.match(refused.stderr, new RegExp(`promotion of ${model} v2 to champion refused`));
      assert.match(refused.stderr, /gate "default" REFUSED version 2 \(baseline champion = v1\)/);
      assert.match(refused.stderr, /✖ auc >= champion\.auc \+ 0\.05/);

      const forced = await cli(env, 'models', 'promote', model, '2', '--force', '--reason', 'hotfix for the holiday peak');
      assert.equal(forced.status, 0, describeResult(forced));
      assert.match(forced.stdout, new RegExp(`${model}: champion → v2 \\(was v1\\), forced without the gate: hotfix for the holiday peak`));
      assert.match(forced.stdout, /the gate, not enforced:/);

      const champion = await cli(env, 'models', 'show', `${model}:champion`);
      assert.equal(champion.status, 0, describeResult(champion));
      assert.match(champion.stdout, new RegExp(`^${model}:2\\s+READY\\s+aliases: champion`, 'm'));
      assert.match(champion.stdout, /training run\s+\(absent\)/);
    });

    it('prints every event with its actor, reason and evidence, and which version held the alias at a time', async () => {
      const history = await cli(env, 'models', 'history', model);
      assert.equal(history.status, 0, describeResult(history));
      assert.match(history.stdout, /model created/);
      assert.match(history.stdout, new RegExp(`version 1 registered from training run ${runId}`));
      assert.match(history.stdout, /promotion policy set/);
      assert.match(history.stdout, /alias champion → v1 \(new alias\)\s+by user:cli-test/);
      assert.match(history.stdout, /reason: first release/);
      assert.match(history.stdout, /gate evaluated: v2 for champion refused/);
      assert.match(history.stdout, /alias champion → v2 \(was v1\)\s+by user:cli-test\n\s+reason: hotfix for the holiday peak\n\s+set directly, without the promotion gate/);

      const events = (await rest<{ events: { type: string; time: string; data: { version?: number } }[] }>(registryUrl, 'GET', `/v1/models/${model}/history`)).body.events;
      const moves = events.filter((event) => event.type === 'ModelVersionAliasSet');
      assert.equal(moves.length, 2);
      const between = new Date((Date.parse(moves[0]!.time) + Date.parse(moves[1]!.time)) / 2).toISOString();
      const then = await cli(env, 'models', 'history', model, '--at', between, '--alias', 'champion');
      assert.equal(then.status, 0, describeResult(then));
      assert.match(then.stdout, new RegExp(`${model}: "champion" was version 1 at`));
      assert.match(then.stdout, /reason: first release/);
      const now = JSON.parse((await cli(env, 'models', 'history', model, '--at', new Date().toISOString(), '--json')).stdout) as { version: number; setBy: { reason: string } };
      assert.equal(now.version, 2);
      assert.equal(now.setBy.reason, 'hotfix for the holiday peak');
      const before = await cli(env, 'models', 'history', model, '--at', '2001-01-01');
      assert.equal(before.status, 1, describeResult(before));
      assert.match(before.stdout, /no version held "champion" at 2001-01-01 00:00:00Z/);
    });
  });

  describe('runs', () => {
    it('lists, shows and replays the training run', async () => {
      const list = await cli(env, 'runs', 'ls', '--experiment', experiment);
      assert.equal(list.status, 0, describeResult(list));
      assert.match(list.stdout, new RegExp(`^${runId}\\s+${experiment}\\s+cli-e2e\\s+FINISHED\\s+builtin/gbdt-classifier\\s+${model}:1\\s+auc=`, 'm'));
      const all = await cli(env, 'runs', 'ls', '--model', model, '--json');
      assert.deepEqual((JSON.parse(all.stdout) as { runs: { runId: string }[] }).runs.map((run) => run.runId), [runId]);

      const show = await cli(env, 'runs', 'show', runId);
      assert.equal(show.status, 0, describeResult(show));
      assert.match(show.stdout, /params\n\s+.*rounds=20/);
      assert.match(show.stdout, /^\s+auc\s+0\.\d+/m);
      assert.match(show.stdout, /model\.onnx\s+[\d.]+ (B|KiB)\s+sha256 [0-9a-f]{16}/);
      assert.match(show.stdout, /reference_profile\.json/);
      assert.match(show.stdout, new RegExp(`training set\\s+${trainingSetId}\\s+600 rows`));
      assert.match(show.stdout, /code commit\s+5eed1e55c0de/);
      assert.match(show.stdout, new RegExp(`registered\\s+${model}:1`));

      const logs = await cli(env, 'runs', 'logs', runId);
      assert.equal(logs.status, 0, describeResult(logs));
      assert.match(logs.stdout, /started\s+builtin\/gbdt-classifier/);
      assert.match(logs.stdout, /metric\s+auc=0\.\d+/);
      assert.match(logs.stdout, new RegExp(`finished\\s+registered ${model}:1`));

      const unknown = await cli(env, 'runs', 'show', '00000000-0000-4000-8000-000000000000');
      assert.equal(unknown.status, 1, describeResult(unknown));
      assert.match(unknown.stderr, /^loopline runs: .*00000000-0000-4000-8000-000000000000/);
    });
  });

  describe('predict', () => {
    it('predicts with the Open Inference Protocol and prints the outputs and the prediction id', async () => {
      await eventually(async () => (await fetch(`${servingUrl}/v2/models/${model}/ready`)).status === 200, { timeoutMs: 60_000, intervalMs: 250, what: 'serving has the champion loaded' });
      const inputs = ['--input', 'distance=1800', '--input', 'origin=ORD', '--input', 'origin_delays__mean_delay_24h=14.5', '--input', 'origin_delays__flights_24h=24'];
      const result = await cli(env, 'predict', model, ...inputs);
      assert.equal(result.status, 0, describeResult(result));
      assert.match(result.stdout, new RegExp(`^${model} v[12]  prediction [0-9a-zA-Z-]{8,}`, 'm'));
      assert.match(result.stdout, /OUTPUT\s+TYPE\s+SHAPE\s+VALUE/);
      assert.match(result.stdout, /probabilities\s+FP32/);

      const json = JSON.parse((await cli(env, 'predict', model, ...inputs, '--json')).stdout) as { predictionId: string; outputs: { name: string; data: number[] }[] };
      assert.ok(json.predictionId.length >= 8);
      const probabilities = json.outputs.find((output) => output.name === 'probabilities')!.data;
      assert.ok(Math.abs(probabilities[0]! + probabilities[1]! - 1) < 1e-5, JSON.stringify(probabilities));

      const wrongType = await cli(env, 'predict', model, '--input', 'distance=far', ...inputs.slice(2));
      assert.equal(wrongType.status, 2, describeResult(wrongType));
      assert.match(wrongType.stderr, /input "distance" is FP32: "far" is not a number/);
      const missing = await cli(env, 'predict', model, ...inputs.slice(0, 4));
      assert.equal(missing.status, 2, describeResult(missing));
      assert.match(missing.stderr, /missing input "origin_delays__mean_delay_24h", "origin_delays__flights_24h"/);
      const unknownModel = await cli(env, 'predict', 'no-such-model', '--input', 'x=1');
      assert.equal(unknownModel.status, 1, describeResult(unknownModel));
      assert.match(unknownModel.stderr, /loopline predict: unknown model 'no-such-model'/);
    });
  });

  describe('lineage', () => {
    it('follows a trained version down to its data, views and code, and prints unrecorded links as absent', async () => {
      const result = await cli(env, 'lineage', '--model', `${model}:1`);
      assert.equal(result.status, 0, describeResult(result));
      assert.match(result.stdout, new RegExp(`^model version\\s+${model}:1\\s+READY`, 'm'));
      assert.match(result.stdout, new RegExp(`^training run\\s+${runId}\\s+FINISHED\\s+builtin/gbdt-classifier\\s+experiment ${experiment}`, 'm'));
      assert.match(result.stdout, new RegExp(`^training set\\s+${trainingSetId}\\s+600 rows`, 'm'));
      assert.match(result.stdout, new RegExp(`dataset\\s+${labelsSource}@${datasetIds.labels.slice(0, 12)}\\s+600 rows\\s+CREATED.*\\(entity rows\\)`));
      assert.match(result.stdout, new RegExp(`dataset\\s+${tripsSource}@${datasetIds.trips.slice(0, 12)}\\s+600 rows\\s+CREATED.*\\(feature view origin_delays v1\\)`));
      assert.match(result.stdout, new RegExp(`feature view\\s+origin_delays v1\\s+source ${tripsSource}\\s+2 features`));
      assert.match(result.stdout, /^pipeline run\s+absent: not trained by a pipeline/m);
      assert.match(result.stdout, /^code commit\s+5eed1e55c0de\s+\(from the model version\)/m);

      const json = JSON.parse((await cli(env, 'lineage', '--model', `${model}:1`, '--json')).stdout) as {
        prediction: null;
        trainingRun: { status: string; value: { runId: string } };
        datasetVersions: { versionId: string; version: { status: string } }[];
        pipelineRun: { status: string; reason: string };
      };
      assert.equal(json.prediction, null);
      assert.equal(json.trainingRun.value.runId, runId);
      assert.deepEqual(json.datasetVersions.map((dataset) => [dataset.versionId, dataset.version.status]).sort(), [
        [datasetIds.labels, 'present'],
        [datasetIds.trips, 'present'],
      ].sort());
      assert.equal(json.pipelineRun.status, 'absent');

      // The champion (version 2) was uploaded by hand: everything past the model is absent.
      const champion = await cli(env, 'lineage', '--model', model);
      assert.equal(champion.status, 0, describeResult(champion));
      assert.match(champion.stdout, new RegExp(`^model version\\s+${model}:2`, 'm'));
      assert.match(champion.stdout, /^training run\s+absent: the model version records no training run/m);
      assert.match(champion.stdout, /^training set\s+absent/m);
      assert.match(champion.stdout, /^code commit\s+absent/m);

      const unknown = await cli(env, 'lineage', '--model', `${model}:9`);
      assert.equal(unknown.status, 1, describeResult(unknown));
      assert.match(unknown.stderr, new RegExp(`model "${model}" has no version 9`));
    });
  });

  // Monitoring and predict-by-entity were built at the same time as these commands: they run last,
  // in a describe of their own, so that the rest stands on its own.
  describe('with monitoring', () => {
    let monitoring: ServiceProcess;
    let monitoringEnv: Record<string, string>;

    before(async () => {
      monitoring = await startServiceProcess(
        'monitoring',
        dataDir,
        {
          LOOPLINE_REGISTRY_URL: registryUrl,
          LOOPLINE_FEATURE_STORE_URL: featureStoreUrl,
          LOOPLINE_MONITORING_CONSUMER_GROUP: uniqueName('cli-monitoring'),
          LOOPLINE_MONITORING_FLUSH_MS: '200',
          LOOPLINE_MONITORING_EVALUATION_INTERVAL_MS: '1000',
        },
        '/health/live',
      );
      services.push(monitoring);
      monitoringEnv = { ...env, LOOPLINE_MONITORING_URL: monitoring.url };
      // Version 1 (trained, with its whole lineage) back as champion: serving serves champions.
      const alias = await rest(registryUrl, 'PUT', `/v1/models/${model}/aliases/champion`, { version: 1, reason: 'roll back for the lineage test' });
      assert.equal(alias.status, 200, JSON.stringify(alias.body));
      await eventually(async () => (await fetch(`${servingUrl}/v2/models/${model}/versions/1/ready`)).status === 200, { timeoutMs: 90_000, intervalMs: 250, what: 'serving has version 1 loaded' });
    });

    it('traces a prediction back through the model version, training run and data to the code', async () => {
      const predicted = await cli(monitoringEnv, 'predict', model, '--version', '1', '--json', '--input', 'distance=700', '--input', 'origin=ATL', '--input', 'origin_delays__mean_delay_24h=3', '--input', 'origin_delays__flights_24h=20');
      assert.equal(predicted.status, 0, describeResult(predicted));
      const { predictionId } = JSON.parse(predicted.stdout) as { predictionId: string };
      const traced = await eventually(
        async () => {
          const result = await cli(monitoringEnv, 'lineage', predictionId);
          if (result.status !== 0) throw new Error(describeResult(result));
          return result;
        },
        { timeoutMs: 90_000, intervalMs: 1_000, what: 'the prediction stored by monitoring' },
      );
      assert.match(traced.stdout, new RegExp(`^prediction\\s+${predictionId}\\s+${model} v1`, 'm'));
      assert.match(traced.stdout, /inputs\s+.*distance/);
      assert.match(traced.stdout, /label\s+absent: no ground truth received yet/);
      assert.match(traced.stdout, new RegExp(`^model version\\s+${model}:1`, 'm'));
      assert.match(traced.stdout, new RegExp(`^training run\\s+${runId}`, 'm'));
      assert.match(traced.stdout, new RegExp(`^training set\\s+${trainingSetId}`, 'm'));
      assert.match(traced.stdout, /^code commit\s+5eed1e55c0de/m);
      const json = JSON.parse((await cli(monitoringEnv, 'lineage', predictionId, '--json')).stdout) as { prediction: { status: string; value: { predictionId: string } } };
      assert.equal(json.prediction.value.predictionId, predictionId);

      const unknown = await cli(monitoringEnv, 'lineage', 'no-such-prediction');
      assert.equal(unknown.status, 1, describeResult(unknown));
      assert.match(unknown.stderr, /unknown prediction "no-such-prediction"/);
    });

    it('predicts by entity, features joined from the online store, and prints each feature with its status', async () => {
      const result = await cli(monitoringEnv, 'predict', model, '--version', '1', '--entity', 'origin=ORD', '--feature', 'distance=1800', '--feature', 'origin=ORD');
      assert.equal(result.status, 0, describeResult(result));
      assert.match(result.stdout, new RegExp(`^${model} v1 \\(\\w+\\)  prediction \\S+`, 'm'));
      assert.match(result.stdout, /origin_delays__mean_delay_24h\s+[\d.]+\s+present/);
      assert.match(result.stdout, /distance\s+1800\s+request/);
    });

    it('lists alerts, and names an unknown alert in the service\'s words', async () => {
      const listed = await cli(monitoringEnv, 'alerts', 'ls', '--model', model, '--json');
      assert.equal(listed.status, 0, describeResult(listed));
      assert.ok(Array.isArray((JSON.parse(listed.stdout) as { alerts: unknown[] }).alerts));
      const text = await cli(monitoringEnv, 'alerts', 'ls', '--model', model, '--status', 'open');
      assert.equal(text.status, 0, describeResult(text));
      assert.match(text.stdout, /^(no alerts|ALERT\s+KIND\s+MODEL)/);
      const unknown = await cli(monitoringEnv, 'alerts', 'ack', '00000000-0000-4000-8000-00000000a1e7', '--note', 'looking');
      assert.equal(unknown.status, 1, describeResult(unknown));
      assert.match(unknown.stderr, /^loopline alerts: alert "00000000-0000-4000-8000-00000000a1e7" does not exist/);
    });

    it('acknowledges and dismisses a drift alert raised on skewed traffic', async () => {
      const monitorName = uniqueName('cli-drift');
      const monitor = await rest(monitoringEnv.LOOPLINE_MONITORING_URL!, 'PUT', `/v1/monitors/${monitorName}`, {
        modelName: model,
        window: { kind: 'count', size: 10 },
        drift: { features: ['distance'], method: 'psi', threshold: 0.1 },
        severity: 'critical',
      });
      assert.equal(monitor.status, 200, JSON.stringify(monitor.body));
      // Skewed traffic straight over the Open Inference Protocol (the CLI's predict is tested above).
      const one = (name: string, datatype: string, value: unknown) => ({ name, datatype, shape: [1, 1], data: [value] });
      for (let request = 0; request < 12; request += 1) {
        const skewed = await rest(servingUrl, 'POST', `/v2/models/${model}/infer`, {
          inputs: [one('distance', 'FP32', 99_999 + request), one('origin', 'BYTES', 'SFO'), one('origin_delays__mean_delay_24h', 'FP32', 3), one('origin_delays__flights_24h', 'FP32', 20)],
        });
        assert.equal(skewed.status, 200, JSON.stringify(skewed.body));
      }
      const alert = await eventually(
        async () => {
          await rest(monitoringEnv.LOOPLINE_MONITORING_URL!, 'POST', `/v1/monitors/${monitorName}/evaluate`);
          const listed = await cli(monitoringEnv, 'alerts', 'ls', '--model', model, '--json');
          return (JSON.parse(listed.stdout) as { alerts: { alertId: string; monitorName: string; status: string }[] }).alerts.find((entry) => entry.monitorName === monitorName && entry.status === 'open');
        },
        { timeoutMs: 120_000, intervalMs: 2_000, what: 'a drift alert of the monitor' },
      );
      assert.ok(alert);
      const table = await cli(monitoringEnv, 'alerts', 'ls', '--model', model);
      assert.match(table.stdout, new RegExp(`^${alert.alertId}\\s+drift\\s+${model}:1\\s+${monitorName}\\s+critical\\s+open\\s+.*distance`, 'm'));
      const acknowledged = await cli(monitoringEnv, 'alerts', 'ack', alert.alertId, '--note', 'looking at the airports feed');
      assert.equal(acknowledged.status, 0, describeResult(acknowledged));
      assert.match(acknowledged.stdout, /acknowledged\s+\S+ \S+ by user:cli-test: looking at the airports feed/);
      const dismissed = await cli(monitoringEnv, 'alerts', 'dismiss', alert.alertId, '--reason', 'a test feed, not real traffic');
      assert.equal(dismissed.status, 0, describeResult(dismissed));
      assert.match(dismissed.stdout, /resolved\s+.*by user:cli-test: a test feed, not real traffic/);
    });
  });
});
