/**
 * The training service through its public REST API, in-process on the run's real PostgreSQL and
 * Kafka, with the real registry as a child process and a stand-in feature store serving Parquet
 * made with chDB: a GBDT job trains, evaluates, stores its artifacts and registers a model version
 * with full lineage; the same job again gives a bit-identical ONNX file; a grid search tracks
 * every trial and registers the best; MLflow tracking semantics (immutable params, metric
 * history, tags); `TrainingRun*` events reach `loopline.training.runs.v1` through the outbox.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { decodeEvent, type DecodedEvent } from '@loopline/contracts';
import { eventually, grpcTestClient, testInfra, uniqueName, unary } from '@loopline/testing';
import {
  finishedRun,
  makeTrainingSet,
  repoRoot,
  rest,
  startFeatureStoreStandIn,
  startRegistryProcess,
  startTraining,
  testDataDir,
  type RunJson,
  type TrainingSetFixture,
  type TrainingUnderTest,
} from './harness';

const topic = 'loopline.training.runs.v1';
const pythonExample = join(repoRoot, 'examples', 'trainers', 'python');
const grpcClient = (address: string) => grpcTestClient('loopline/training/v1/training_service.proto', 'loopline.training.v1.TrainingService', address);

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('training service REST API', () => {
  const dataDir = testDataDir('training_e2e');
  const sets: TrainingSetFixture[] = [];
  let featureStore: Awaited<ReturnType<typeof startFeatureStoreStandIn>>;
  let registry: Awaited<ReturnType<typeof startRegistryProcess>>;
  let training: TrainingUnderTest;
  let consumer: Consumer;
  const seen: DecodedEvent[] = [];
  const modelName = uniqueName('flight-delay').replace(/_/g, '-');
  const experimentName = uniqueName('exp');

  before(async () => {
    sets.push(makeTrainingSet(join(dataDir, 'sets'), 'binary', 4_000, 7));
    featureStore = await startFeatureStoreStandIn(() => sets);
    registry = await startRegistryProcess(join(dataDir, 'registry'));
    training = await startTraining({
      registryUrl: registry.url,
      featureStoreUrl: featureStore.url,
      dataDir: join(dataDir, 'training'),
      env: {
        // The Python example trainer, declared as configuration declares external trainers.
        LOOPLINE_TRAINING_EXTERNAL_TRAINERS: JSON.stringify({
          'sklearn-hgb': { command: ['python3', 'train.py'], cwd: pythonExample, lockfile: 'requirements.txt', version: 'example-1', timeoutMs: 120_000, env: { OMP_NUM_THREADS: '1' } },
        }),
      },
    });
    const kafka = new Kafka({ clientId: 'training-e2e', brokers: testInfra().kafkaBrokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await eventually(async () => (await admin.listTopics()).includes(topic), { timeoutMs: 30_000, what: `${topic} provisioned` });
    } finally {
      await admin.disconnect();
    }
    consumer = kafka.consumer({ groupId: uniqueName('training_e2e') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(decodeEvent(message, topic)) });
  });

  after(async () => {
    await consumer?.disconnect();
    await training?.stop();
    await registry?.stop();
    await featureStore?.close();
  });

  const job = (overrides: Record<string, unknown> = {}) => ({
    experimentName,
    modelName,
    trainingSetId: sets[0]!.id,
    trainer: 'builtin/gbdt-classifier',
    params: { rounds: 30, numLeaves: 15, learningRate: 0.2 },
    seed: 7,
    labelColumn: 'label',
    ...overrides,
  });

  describe('a GBDT training job', () => {
    let run: RunJson;

    before(async () => {
      const started = await rest<RunJson>(training.baseUrl, 'POST', '/v1/training-jobs', job(), { 'x-loopline-actor': 'user:alice' });
      assert.equal(started.status, 202, JSON.stringify(started.body));
      assert.equal(started.body.status, 'RUNNING');
      run = await finishedRun(training.baseUrl, started.body.runId);
    });

    it('finishes with holdout metrics of a model that learned (AUC > 0.8)', () => {
      assert.equal(run.status, 'FINISHED', JSON.stringify(run.error));
      assert.ok(run.metrics.auc! > 0.8, `AUC ${run.metrics.auc}`);
      for (const metric of ['log_loss', 'accuracy', 'precision', 'recall', 'f1']) assert.equal(typeof run.metrics[metric], 'number', metric);
      // Default split: by the training set's event time, the latest 20% held out.
      assert.equal(run.metrics.holdout_rows, 800);
      assert.deepEqual(JSON.parse(run.tags['loopline.split']!), { kind: 'time', timeColumn: 'event_time', holdoutFraction: 0.2 });
    });

    it('records every hyper-parameter (defaults included), the seed and the environment lockfile hash', () => {
      assert.equal(run.params.numLeaves, '15');
      assert.equal(run.params.minDataInLeaf, '20');
      assert.equal(run.params.seed, '7');
      assert.match(run.environmentLockSha256, /^[0-9a-f]{64}$/);
    });

    it('stores the model, metrics, feature importance, ROC/PR curves and reference profile as artifacts', async () => {
      assert.deepEqual(run.artifacts.map((artifact) => artifact.name).sort(), ['feature_importance.json', 'metrics.json', 'model.onnx', 'pr_curve.json', 'reference_profile.json', 'roc_curve.json']);
      const response = await fetch(`${training.baseUrl}/v1/runs/${run.runId}/artifacts/model.onnx`);
      const bytes = Buffer.from(await response.arrayBuffer());
      assert.equal(sha256(bytes), run.model!.sha256);
      const roc = (await rest<{ fpr: number; tpr: number }[]>(training.baseUrl, 'GET', `/v1/runs/${run.runId}/artifacts/roc_curve.json`)).body;
      assert.deepEqual([roc.at(-1)!.fpr, roc.at(-1)!.tpr], [1, 1]);
    });

    it('registers a model version with full lineage, its params, metrics and reference profile', async () => {
      assert.ok(run.registered, 'registered');
      const version = (await rest<Record<string, unknown>>(registry.url, 'GET', `/v1/models/${modelName}/versions/${run.registered.version}`)).body;
      const set = sets[0]!;
      const recipe = set.recipe as { entities: { versionId: string }; views: { datasetVersionId: string }[] };
      assert.deepEqual(version.lineage, {
        trainingRunId: run.runId,
        pipelineRunId: '',
        experimentName,
        trainingSetId: set.id,
        datasetVersionIds: [recipe.entities.versionId, recipe.views[0]!.datasetVersionId],
        featureViews: [{ viewName: 'synthetic_stats', viewVersion: 2 }],
        trainerName: 'builtin/gbdt-classifier',
        trainerVersion: '0.1.0',
        codeCommit: 'c0ffee1234567890',
      });
      assert.equal((version.artifact as { sha256: string }).sha256, run.model!.sha256);
      assert.equal((version.params as Record<string, string>).numLeaves, '15');
      assert.equal((version.metrics as Record<string, number>).auc, run.metrics.auc);
      assert.equal((version.tags as Record<string, string>)['loopline.training_run_id'], run.runId);
      // One FP32 input per numeric feature and a STRING input for the categorical one; plain tensor outputs.
      const signature = version.signature as { inputs: { name: string; datatype: string }[]; outputs: { name: string; datatype: string }[] };
      assert.deepEqual(signature.inputs.map((input) => `${input.name}:${input.datatype}`), ['x1:FP32', 'x2:FP32', 'x3:FP32', 'city:BYTES']);
      assert.deepEqual(signature.outputs.map((output) => `${output.name}:${output.datatype}`), ['label:INT64', 'probabilities:FP32']);
      const profile = (await rest<{ rowCount: number; features: Record<string, { kind: string; missing: number }> }>(registry.url, 'GET', `/v1/models/${modelName}/versions/${run.registered.version}/reference-profile`)).body;
      assert.equal(profile.rowCount, 3_200);
      assert.equal(profile.features.city!.kind, 'categorical');
      assert.ok(profile.features.x2!.missing > 0, 'the profile counts nulls');
    });

    it('gives a bit-identical ONNX file when the same job runs again', async () => {
      const again = await rest<RunJson>(training.baseUrl, 'POST', '/v1/training-jobs', job({ modelName: '' }));
      const rerun = await finishedRun(training.baseUrl, again.body.runId);
      assert.notEqual(rerun.runId, run.runId);
      assert.equal(rerun.model!.sha256, run.model!.sha256);
      assert.equal(rerun.registered, null, 'no model name: nothing registered');
    });

    it('publishes TrainingRunStarted and TrainingRunCompleted, keyed by run id', async () => {
      await eventually(() => seen.filter((event) => event.key === run.runId).length >= 2, { timeoutMs: 20_000, what: 'run events on Kafka' });
      const events = seen.filter((event) => event.key === run.runId);
      assert.deepEqual(events.map((event) => event.type), ['loopline.training.v1.TrainingRunStarted', 'loopline.training.v1.TrainingRunCompleted']);
      const completed = events[1]!.message as unknown as { registeredModelVersion: number; seed: number; codeCommit: string; model: { sha256: string } };
      assert.deepEqual([completed.registeredModelVersion, completed.seed, completed.codeCommit, completed.model.sha256], [run.registered!.version, 7, 'c0ffee1234567890', run.model!.sha256]);
    });
  });

  describe('a job that cannot run', () => {
    it('is refused with 400 naming the problem: unknown trainer, bad params, unknown training set', async () => {
      const unknownTrainer = await rest<{ code: string; error: string }>(training.baseUrl, 'POST', '/v1/training-jobs', job({ trainer: 'builtin/nope' }));
      assert.deepEqual([unknownTrainer.status, unknownTrainer.body.code], [400, 'VALIDATION']);
      assert.match(unknownTrainer.body.error, /unknown trainer/);
      const badParams = await rest<{ error: string }>(training.baseUrl, 'POST', '/v1/training-jobs', job({ params: { leaves: 3 } }));
      assert.equal(badParams.status, 400);
      assert.match(badParams.body.error, /"leaves"/);
      const unknownSet = await rest<{ error: string }>(training.baseUrl, 'POST', '/v1/training-jobs', job({ trainingSetId: 'f'.repeat(64) }));
      assert.equal(unknownSet.status, 400);
    });

    it('fails the run with INVALID_DATA when a column is missing from the data', async () => {
      const started = await rest<RunJson>(training.baseUrl, 'POST', '/v1/training-jobs', job({ featureColumns: ['x1', 'nope'], modelName: '' }));
      const run = await finishedRun(training.baseUrl, started.body.runId);
      assert.equal(run.status, 'FAILED');
      assert.equal(run.error!.code, 'INVALID_DATA');
      assert.match(run.error!.message, /nope/);
    });
  });

  describe('a grid search', () => {
    it('tracks every trial as a run of its own and registers the best by the named metric', async () => {
      const started = await rest<RunJson>(training.baseUrl, 'POST', '/v1/tuning-jobs', {
        ...job({ params: { rounds: 15 } }),
        search: { space: { numLeaves: { values: [4, 15] }, learningRate: { values: [0.05, 0.3] } }, strategy: 'grid', maxTrials: 10, metric: 'auc', workers: 2 },
      });
      assert.equal(started.status, 202, JSON.stringify(started.body));
      const parent = await finishedRun(training.baseUrl, started.body.runId, 120_000);
      assert.equal(parent.status, 'FINISHED', JSON.stringify(parent.error));
      let trials: { runId: string; status: string; metrics: Record<string, number>; params: Record<string, string> }[] = [];
      await eventually(
        async () => {
          trials = (await rest<{ runs: typeof trials }>(training.baseUrl, 'GET', `/v1/experiments/${experimentName}/runs?parentRunId=${parent.runId}`)).body.runs;
          return trials.length === 4 && trials.every((trial) => trial.status === 'FINISHED');
        },
        { timeoutMs: 10_000, what: 'four finished trials listed' },
      );
      assert.deepEqual(trials.map((trial) => `${trial.params.numLeaves}/${trial.params.learningRate}`).sort(), ['15/0.05', '15/0.3', '4/0.05', '4/0.3']);
      const best = trials.reduce((a, b) => (b.metrics.auc! > a.metrics.auc! ? b : a));
      assert.equal(parent.outputs.bestTrainingRunId, best.runId);
      assert.equal(parent.metrics.auc, best.metrics.auc);
      assert.equal(parent.metrics.trials, 4);
      const version = (await rest<{ lineage: { trainingRunId: string }; tags: Record<string, string> }>(registry.url, 'GET', `/v1/models/${modelName}/versions/${parent.registered!.version}`)).body;
      assert.equal(version.lineage.trainingRunId, best.runId);
      assert.equal(version.tags['loopline.tuning_run_id'], parent.runId);
    });
  });

  describe('the Python example trainer, through the external-trainer contract', () => {
    it('trains from the spec, and its model is stored, profiled and registered like a built-in one', async () => {
      const started = await rest<RunJson>(training.baseUrl, 'POST', '/v1/training-jobs', job({ trainer: 'external/sklearn-hgb', task: 'binary', params: { max_iter: 40, learning_rate: 0.2 } }));
      assert.equal(started.status, 202, JSON.stringify(started.body));
      const run = await finishedRun(training.baseUrl, started.body.runId, 120_000);
      assert.equal(run.status, 'FINISHED', JSON.stringify(run.error));
      assert.ok(run.metrics.auc! > 0.75, `AUC ${run.metrics.auc}`);
      assert.equal(run.metrics.holdout_rows, 800, 'the trainer honoured the time split of the spec');
      assert.equal(run.environmentLockSha256, sha256(readFileSync(join(pythonExample, 'requirements.txt'))));
      assert.deepEqual(run.artifacts.map((artifact) => artifact.name).sort(), ['metrics.json', 'model.onnx', 'reference_profile.json', 'trainer.log']);
      const version = (await rest<{ lineage: { trainerName: string; trainerVersion: string }; signature: { outputs: { name: string }[] } }>(registry.url, 'GET', `/v1/models/${modelName}/versions/${run.registered!.version}`)).body;
      assert.deepEqual([version.lineage.trainerName, version.lineage.trainerVersion], ['external/sklearn-hgb', 'example-1']);
      assert.deepEqual(version.signature.outputs.map((output) => output.name), ['label', 'probabilities'], 'no ZipMap');
    });

    it("fails the run with TRAINER_EXITED and the trainer's own words when it exits non-zero", async () => {
      const started = await rest<RunJson>(training.baseUrl, 'POST', '/v1/training-jobs', job({ trainer: 'external/sklearn-hgb', params: { bogus: 1 }, modelName: '' }));
      const run = await finishedRun(training.baseUrl, started.body.runId, 60_000);
      assert.equal(run.status, 'FAILED');
      assert.equal(run.error!.code, 'TRAINER_EXITED');
      assert.match(run.error!.message, /unknown params: bogus/);
    });
  });

  describe('experiment tracking', () => {
    it('keeps params immutable, metrics append-only with step and time, tags mutable', async () => {
      const created = await rest<RunJson>(training.baseUrl, 'POST', `/v1/experiments/${experimentName}/runs`, { runName: 'notebook', seed: 3 });
      assert.equal(created.status, 201);
      const runId = created.body.runId;
      assert.equal((await rest(training.baseUrl, 'POST', `/v1/runs/${runId}/params`, { params: { lr: 0.1, depth: '6' } })).status, 200);
      assert.equal((await rest(training.baseUrl, 'POST', `/v1/runs/${runId}/params`, { params: { lr: 0.1 } })).status, 200, 'the same value again is a no-op');
      const changed = await rest<{ code: string }>(training.baseUrl, 'POST', `/v1/runs/${runId}/params`, { params: { lr: 0.2 } });
      assert.deepEqual([changed.status, changed.body.code], [409, 'ILLEGAL_STATE']);
      await rest(training.baseUrl, 'POST', `/v1/runs/${runId}/metrics`, { metrics: [{ key: 'loss', value: 0.9, step: 0 }, { key: 'loss', value: 0.5, step: 1 }] });
      await rest(training.baseUrl, 'POST', `/v1/runs/${runId}/metrics`, { metrics: [{ key: 'loss', value: 0.4, step: 2, timestamp: '2026-01-01T00:00:00Z' }] });
      const history = (await rest<{ metrics: { value: number; step: number; timestamp: string }[] }>(training.baseUrl, 'GET', `/v1/runs/${runId}/metrics/loss/history`)).body.metrics;
      assert.deepEqual(history.map((metric) => [metric.step, metric.value]), [[0, 0.9], [1, 0.5], [2, 0.4]]);
      assert.equal(history[2]!.timestamp, '2026-01-01T00:00:00.000Z');
      const uploaded = await fetch(`${training.baseUrl}/v1/runs/${runId}/artifacts/notes.bin`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from('hello') });
      assert.equal(uploaded.status, 200);
      const ended = await rest<RunJson>(training.baseUrl, 'POST', `/v1/runs/${runId}/end`, { status: 'FINISHED' });
      assert.equal(ended.body.status, 'FINISHED');
      assert.equal(ended.body.metrics.loss, 0.4);
      const late = await rest<{ code: string }>(training.baseUrl, 'POST', `/v1/runs/${runId}/metrics`, { metrics: [{ key: 'loss', value: 0.1 }] });
      assert.equal(late.status, 409, 'an ended run takes no more metrics');
      assert.equal((await rest(training.baseUrl, 'PUT', `/v1/runs/${runId}/tags/note`, { value: 'after the fact' })).status, 200, 'tags stay mutable');
      assert.equal((await rest(training.baseUrl, 'GET', `/v1/runs/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`)).status, 404);
    });
  });

  describe('gRPC (loopline.training.v1.TrainingService)', () => {
    it('tracks a run and reads it back, with INVALID_ARGUMENT and FAILED_PRECONDITION as documented', async () => {
      const client = grpcClient(training.grpcAddress);
      try {
        const created = await unary<{ run: { runId: string; status: string } }>(client, 'CreateRun', { experimentName, runName: 'grpc', seed: 9 });
        const { runId } = created.run;
        assert.equal(created.run.status, 'RUNNING');
        await unary(client, 'LogParams', { runId, params: { depth: '4' } });
        await unary(client, 'LogMetrics', { runId, metrics: [{ key: 'auc', value: 0.7, step: 1 }, { key: 'auc', value: 0.8, step: 2 }] });
        const history = await unary<{ metrics: { value: number; step: string }[] }>(client, 'GetMetricHistory', { runId, key: 'auc' });
        assert.deepEqual(history.metrics.map((metric) => [metric.step, metric.value]), [['1', 0.7], ['2', 0.8]]);
        await assert.rejects(unary(client, 'LogParams', { runId, params: { depth: '5' } }), (error: { code: number }) => error.code === status.FAILED_PRECONDITION);
        const ended = await unary<{ run: { status: string; metrics: Record<string, number>; seed: number } }>(client, 'EndRun', { runId, status: 'FINISHED' });
        assert.deepEqual([ended.run.status, ended.run.metrics.auc, ended.run.seed], ['FINISHED', 0.8, 9]);
        await assert.rejects(unary(client, 'StartTrainingJob', { spec: { experimentName, trainingSetId: sets[0]!.id, trainer: 'nope' } }), (error: { code: number }) => error.code === status.INVALID_ARGUMENT);
      } finally {
        client.close();
      }
    });
  });

  it('documents its API at /openapi.json', async () => {
    const document = (await rest<{ paths: Record<string, unknown> }>(training.baseUrl, 'GET', '/openapi.json')).body;
    for (const path of ['/v1/training-jobs', '/v1/tuning-jobs', '/v1/experiments/{name}/runs', '/v1/runs/{runId}/metrics']) assert.ok(path in document.paths, path);
    assert.ok(repoRoot);
  });
});
