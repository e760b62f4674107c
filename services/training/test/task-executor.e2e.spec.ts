/**
 * The training service as a pipeline task executor: RunTask commands on
 * `loopline.orchestration.task-commands.v1` (train, tune), answered on
 * `loopline.orchestration.task-results.v1`. A command delivered twice trains once, answers once
 * and registers one model version; a duplicate of a finished task is answered again with the
 * recorded result; a command that can never work is answered with TaskFailed, not retryable.
 * Real: the training service, the registry (child process), PostgreSQL, Kafka, chDB; stood in
 * for: the feature store.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { decodeEvent, RunTaskSchema, StepKind, TaskCompletedSchema, TaskFailedSchema, type DecodedEvent } from '@loopline/contracts';
import { contractMessage, createEventProducer, type EventProducer } from '@loopline/messaging';
import { createLogger } from '@loopline/telemetry';
import { eventually, testInfra, uniqueName } from '@loopline/testing';
import { makeTrainingSet, rest, startFeatureStoreStandIn, startRegistryProcess, startTraining, testDataDir, type TrainingSetFixture, type TrainingUnderTest } from './harness';

const commands = 'loopline.orchestration.task-commands.v1';
const results = 'loopline.orchestration.task-results.v1';

describe('training as a pipeline task executor', () => {
  const dataDir = testDataDir('training_tasks');
  const sets: TrainingSetFixture[] = [];
  let featureStore: Awaited<ReturnType<typeof startFeatureStoreStandIn>>;
  let registry: Awaited<ReturnType<typeof startRegistryProcess>>;
  let training: TrainingUnderTest;
  let producer: EventProducer;
  let consumer: Consumer;
  const answers: DecodedEvent[] = [];
  const modelName = uniqueName('task-model').replace(/_/g, '-');
  const pipelineName = uniqueName('flights-retrain');

  before(async () => {
    sets.push(makeTrainingSet(join(dataDir, 'sets'), 'binary', 3_000, 11));
    featureStore = await startFeatureStoreStandIn(() => sets);
    registry = await startRegistryProcess(join(dataDir, 'registry'));
    training = await startTraining({
      registryUrl: registry.url,
      featureStoreUrl: featureStore.url,
      dataDir: join(dataDir, 'training'),
      env: { LOOPLINE_TRAINING_TASKS: 'true', LOOPLINE_TRAINING_TASK_CONSUMER_GROUP: uniqueName('training_tasks'), LOOPLINE_TRAINING_TASK_PIPELINES: pipelineName },
    });
    const kafka = new Kafka({ clientId: 'training-tasks-e2e', brokers: testInfra().kafkaBrokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      // The service provisions the command and result topics when it starts.
      await eventually(async () => {
        const existing = await admin.listTopics();
        return existing.includes(commands) && existing.includes(results);
      }, { timeoutMs: 30_000, what: 'task topics provisioned' });
    } finally {
      await admin.disconnect();
    }
    consumer = kafka.consumer({ groupId: uniqueName('training_tasks_e2e') });
    await consumer.connect();
    await consumer.subscribe({ topic: results, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void answers.push(decodeEvent(message, results)) });
    producer = createEventProducer(kafka, { logger: createLogger({ service: 'training-tasks-e2e', level: 'warn' }) });
  });

  after(async () => {
    await producer?.disconnect();
    await consumer?.disconnect();
    await training?.stop();
    await registry?.stop();
    await featureStore?.close();
  });

  async function send(pipelineRunId: string, idempotencyKey: string, stepKind: StepKind, params: Record<string, unknown>): Promise<void> {
    const message = create(RunTaskSchema, { runId: pipelineRunId, taskId: 'train', stepKind, idempotencyKey, params: params as never, attempt: 1, pipelineName });
    await producer.publish([contractMessage({ topic: commands, key: pipelineRunId, id: randomUUID(), source: '/loopline/tests', time: new Date(), message })]);
  }

  const answersFor = (pipelineRunId: string) => answers.filter((event) => event.key === pipelineRunId);

  it('trains once, answers TaskCompleted once and registers one version when a command is delivered twice', async () => {
    const pipelineRunId = randomUUID();
    const key = `${pipelineRunId}/train/1`;
    const params = { trainingSetId: sets[0]!.id, trainer: 'gbdt', params: { rounds: 20, numLeaves: 7 }, seed: 5, labelColumn: 'label', modelName, experiment: 'flights' };
    await send(pipelineRunId, key, StepKind.TRAIN_MODEL, params);
    await send(pipelineRunId, key, StepKind.TRAIN_MODEL, params);
    await eventually(() => answersFor(pipelineRunId).length >= 1, { timeoutMs: 90_000, what: 'TaskCompleted' });
    // Time for a second answer to show up, were there one.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const [answer, ...others] = answersFor(pipelineRunId);
    assert.equal(others.length, 0, 'one answer');
    assert.equal(answer!.type, TaskCompletedSchema.typeName);
    const completed = answer!.message as unknown as { idempotencyKey: string; executor: string; outputs: Record<string, unknown> };
    assert.deepEqual([completed.idempotencyKey, completed.executor], [key, 'training']);
    const outputs = completed.outputs;
    assert.equal(outputs.modelName, modelName);
    assert.equal(outputs.version, 1);
    assert.equal(outputs.modelVersion, `${modelName}:1`);
    assert.ok((outputs.metrics as Record<string, number>).auc! > 0.75);
    const versions = (await rest<{ versions: { lineage: { trainingRunId: string; pipelineRunId: string } }[] }>(registry.url, 'GET', `/v1/models/${modelName}/versions`)).body.versions;
    assert.equal(versions.length, 1, 'one model version');
    assert.deepEqual([versions[0]!.lineage.trainingRunId, versions[0]!.lineage.pipelineRunId], [outputs.trainingRunId, pipelineRunId]);

    // Orchestration re-sends a command whose answer it missed: the recorded result comes again.
    await send(pipelineRunId, key, StepKind.TRAIN_MODEL, params);
    await eventually(() => answersFor(pipelineRunId).length === 2, { timeoutMs: 20_000, what: 'the result sent again' });
    const again = answersFor(pipelineRunId)[1]!.message as unknown as { outputs: Record<string, unknown> };
    assert.deepEqual(again.outputs, outputs);
    assert.equal((await rest<{ versions: unknown[] }>(registry.url, 'GET', `/v1/models/${modelName}/versions`)).body.versions.length, 1, 'still one version');
  });

  it('answers a tune task with the best trial and its registered version', async () => {
    const pipelineRunId = randomUUID();
    await send(pipelineRunId, `${pipelineRunId}/tune/1`, StepKind.TUNE_HYPERPARAMETERS, {
      trainingSetId: sets[0]!.id,
      trainer: 'builtin/gbdt-classifier',
      params: { rounds: 10 },
      space: { numLeaves: { values: [3, 15] } },
      strategy: 'grid',
      metric: 'auc',
      workers: 2,
      modelName,
    });
    await eventually(() => answersFor(pipelineRunId).length >= 1, { timeoutMs: 90_000, what: 'the tune answer' });
    const answer = answersFor(pipelineRunId)[0]!;
    assert.equal(answer.type, TaskCompletedSchema.typeName, `answered ${answer.type}: ${JSON.stringify(answer.message, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value))}`);
    const outputs = (answer.message as unknown as { outputs: Record<string, unknown> }).outputs;
    assert.equal(typeof outputs.bestTrainingRunId, 'string');
    assert.ok([3, 15].includes((outputs.bestParams as { numLeaves: number }).numLeaves));
    assert.equal(outputs.version, 2);
  });

  it('answers TaskFailed, not retryable, for a command that can never work', async () => {
    const pipelineRunId = randomUUID();
    await send(pipelineRunId, `${pipelineRunId}/train/1`, StepKind.TRAIN_MODEL, { trainingSetId: sets[0]!.id, trainer: 'builtin/gbdt-classifier', params: { numLeaves: 1 } });
    await eventually(() => answersFor(pipelineRunId).length >= 1, { timeoutMs: 30_000, what: 'TaskFailed' });
    const answer = answersFor(pipelineRunId)[0]!;
    assert.equal(answer.type, TaskFailedSchema.typeName);
    const error = (answer.message as unknown as { error: { code: string; message: string; retryable: boolean } }).error;
    assert.equal(error.code, 'INVALID_REQUEST');
    assert.equal(error.retryable, false);
    assert.match(error.message, /numLeaves/);
  });
});
