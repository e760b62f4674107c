/**
 * A training worker killed in the middle of a task (SIGKILL, no shutdown): the next process resumes
 * the run at start-up, the task is answered, and the model is registered once. Real: two training
 * service processes one after the other on the same database and data folder, the registry (child
 * process), PostgreSQL, Kafka, chDB; stood in for: the feature store.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { decodeEvent, RunTaskSchema, StepKind, TaskCompletedSchema, type DecodedEvent } from '@loopline/contracts';
import { contractMessage, createEventProducer, type EventProducer } from '@loopline/messaging';
import { createLogger } from '@loopline/telemetry';
import { createTestDatabase, eventually, freePort, testInfra, uniqueName } from '@loopline/testing';
import { TaskExecutor } from '../src/application/task-executor';
import { finishedRun, makeTrainingSet, repoRoot, rest, startFeatureStoreStandIn, startRegistryProcess, testDataDir, type TrainingSetFixture } from './harness';

const results = 'loopline.orchestration.task-results.v1';

describe('a training worker killed mid-task', () => {
  const dataDir = testDataDir('training_crash');
  const sets: TrainingSetFixture[] = [];
  let featureStore: Awaited<ReturnType<typeof startFeatureStoreStandIn>>;
  let registry: Awaited<ReturnType<typeof startRegistryProcess>>;
  let env: NodeJS.ProcessEnv;
  let baseUrl: string;
  const workers: ChildProcess[] = [];
  let producer: EventProducer;
  let consumer: Consumer;
  const answers: DecodedEvent[] = [];
  const modelName = uniqueName('crash-model').replace(/_/g, '-');
  const pipelineName = uniqueName('crash');

  before(async () => {
    sets.push(makeTrainingSet(join(dataDir, 'sets'), 'binary', 20_000, 3));
    featureStore = await startFeatureStoreStandIn(() => sets);
    registry = await startRegistryProcess(join(dataDir, 'registry'));
    const httpPort = await freePort();
    baseUrl = `http://127.0.0.1:${httpPort}`;
    env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LOOPLINE_HOST: '127.0.0.1',
      LOOPLINE_TRAINING_HTTP_PORT: String(httpPort),
      LOOPLINE_TRAINING_GRPC_PORT: String(await freePort()),
      LOOPLINE_POSTGRES_URL: await createTestDatabase('training_crash'),
      LOOPLINE_KAFKA_BROKERS: testInfra().kafkaBrokers.join(','),
      LOOPLINE_DATA_DIR: join(dataDir, 'training'),
      LOOPLINE_LOG_LEVEL: 'warn',
      LOOPLINE_REGISTRY_URL: registry.url,
      LOOPLINE_FEATURE_STORE_URL: featureStore.url,
      LOOPLINE_TRAINING_TASK_CONSUMER_GROUP: uniqueName('training_crash'),
      LOOPLINE_TRAINING_TASK_PIPELINES: pipelineName,
    };
    const kafka = new Kafka({ clientId: 'training-crash-e2e', brokers: testInfra().kafkaBrokers, logLevel: logLevel.NOTHING });
    producer = createEventProducer(kafka, { logger: createLogger({ service: 'training-crash-e2e', level: 'warn' }) });
    consumer = kafka.consumer({ groupId: uniqueName('training_crash_e2e') });
    await startWorker();
    const admin = kafka.admin();
    await admin.connect();
    try {
      // The service provisions the command and result topics when it starts.
      await eventually(async () => (await admin.listTopics()).includes(results), { timeoutMs: 30_000, what: 'task topics provisioned' });
    } finally {
      await admin.disconnect();
    }
    await consumer.connect();
    await consumer.subscribe({ topic: results, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void answers.push(decodeEvent(message, results)) });
  });

  after(async () => {
    for (const worker of workers) if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
    await producer?.disconnect();
    await consumer?.disconnect();
    await registry?.stop();
    await featureStore?.close();
  });

  async function startWorker(): Promise<ChildProcess> {
    const worker = spawn(process.execPath, ['-r', '@swc-node/register', join(repoRoot, 'services', 'training', 'src', 'main.ts')], { cwd: repoRoot, env, stdio: 'ignore' });
    workers.push(worker);
    await eventually(async () => (await fetch(`${baseUrl}/health/ready`).catch(() => undefined))?.status === 200, { timeoutMs: 60_000, what: 'the training service ready' });
    return worker;
  }

  it('is resumed by the next process: one TaskCompleted, one model version', async () => {
    const pipelineRunId = randomUUID();
    const command = { pipelineRunId, taskId: 'train', attempt: 1, idempotencyKey: `${pipelineRunId}/train/1` };
    const message = create(RunTaskSchema, {
      runId: pipelineRunId,
      taskId: 'train',
      stepKind: StepKind.TRAIN_MODEL,
      idempotencyKey: command.idempotencyKey,
      attempt: 1,
      pipelineName,
      // Long enough to be killed in the middle of it.
      params: { trainingSetId: sets[0]!.id, trainer: 'gbdt', params: { rounds: 400, numLeaves: 63, minDataInLeaf: 5 }, modelName } as never,
    });
    await producer.publish([contractMessage({ topic: 'loopline.orchestration.task-commands.v1', key: pipelineRunId, id: randomUUID(), source: '/loopline/tests', time: new Date(), message })]);
    const runId = TaskExecutor.runIdOf(command);
    await eventually(async () => (await rest<{ status: string }>(baseUrl, 'GET', `/v1/runs/${runId}`)).body.status === 'RUNNING', { timeoutMs: 30_000, what: 'the run started' });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const first = workers[0]!;
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    assert.equal((await rest<{ versions?: unknown[] }>(registry.url, 'GET', `/v1/models/${modelName}/versions`)).body.versions?.length ?? 0, 0, 'killed before it registered');

    await startWorker();
    const run = await finishedRun(baseUrl, runId, 180_000);
    assert.equal(run.status, 'FINISHED', JSON.stringify(run.error));
    await eventually(() => answers.some((answer) => answer.key === pipelineRunId), { timeoutMs: 20_000, what: 'TaskCompleted' });
    const answered = answers.filter((answer) => answer.key === pipelineRunId);
    assert.deepEqual(answered.map((answer) => answer.type), [TaskCompletedSchema.typeName]);
    const versions = (await rest<{ versions: unknown[] }>(registry.url, 'GET', `/v1/models/${modelName}/versions`)).body.versions;
    assert.equal(versions.length, 1);
  });
});
