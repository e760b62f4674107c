/**
 * The generic task executor against the real Kafka and PostgreSQL of the test run: RunTask in,
 * TaskCompleted / TaskFailed out, one effect per idempotency key, recorded answers sent again,
 * timeouts, and a claim taken over after its executor stopped. Real: Kafka, PostgreSQL, kafkajs,
 * pg. The handlers are small functions of the spec (what a service plugs in).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { Pool } from 'pg';
import { decodeEvent, RunTaskSchema, StepKind, TaskCompletedSchema, TaskFailedSchema, type DecodedEvent } from '@loopline/contracts';
import { ValidationError } from '@loopline/errors';
import { createTestDatabase, eventually, testInfra, uniqueName } from '@loopline/testing';
import { contractMessage } from '../contract-events';
import { createEventProducer, type EventProducer } from '../event-producer';
import { recordTopic, testKafka, testLogger } from '../../test/kafka-test-kit';
import { startTaskExecution, taskCommandsTopic, taskResultsTopic, type ExecutableTask, type TaskExecution } from './task-execution';
import { TaskFailure } from './task-failure';

interface Answer {
  readonly type: string;
  readonly key: string | undefined;
  readonly id: string;
  readonly message: { idempotencyKey: string; attempt: number; executor: string; outputs?: Record<string, unknown>; logsTail?: string; error?: { code: string; message: string; retryable: boolean; logsTail: string } };
}

describe('startTaskExecution', () => {
  const kafka = testKafka(testInfra().kafkaBrokers, 'task-execution-int');
  const pipelineName = uniqueName('task_execution');
  let pool: Pool;
  let producer: EventProducer;
  let results: Awaited<ReturnType<typeof recordTopic>>;
  const executions: TaskExecution[] = [];
  const calls: ExecutableTask[] = [];
  const releases = new Map<string, () => void>();

  const kinds = {
    ingest: async (task: ExecutableTask, progress: { log(line: string): void }) => {
      calls.push(task);
      progress.log(`ingesting ${String(task.params.sourceName)}`);
      if (task.params.sourceName === 'missing') throw new TaskFailure('SOURCE_NOT_FOUND', 'data source "missing" does not exist', { retryable: false });
      if (task.params.sourceName === 'invalid') throw new ValidationError('format: "xls" is not one of csv, jsonl, parquet');
      if (task.params.hold === true) {
        // Held until the test releases it, or until aborted (timeout, stop).
        await new Promise<void>((resolve, reject) => {
          releases.set(task.idempotencyKey, resolve);
          task.signal.addEventListener('abort', () => reject(task.signal.reason as Error), { once: true });
        });
      }
      return { datasetVersionId: `v-${String(task.params.sourceName)}`, rowCount: 3, created: true };
    },
  };

  function start(options: { leaseMs?: number } = {}): TaskExecution {
    const execution = startTaskExecution({
      kafka,
      pool,
      schema: 'task_execution_spec',
      executor: 'ingestion',
      groupId: uniqueName('task_execution_group'),
      kinds,
      logger: testLogger,
      leaseMs: options.leaseMs ?? 3_000,
      accept: (command) => command.pipelineName === pipelineName,
    });
    executions.push(execution);
    return execution;
  }

  before(async () => {
    pool = new Pool({ connectionString: await createTestDatabase('task_execution') });
    producer = createEventProducer(kafka, { logger: testLogger });
    await start().started;
    results = await recordTopic(kafka, taskResultsTopic, uniqueName('task_results_reader'));
  });

  after(async () => {
    for (const execution of executions) await execution.stop();
    await results?.stop();
    await producer?.disconnect();
    await pool?.end();
  });

  async function send(runId: string, stepKind: StepKind, params: Record<string, unknown>, extra: { idempotencyKey?: string; attempt?: number; timeoutMs?: bigint } = {}): Promise<string> {
    const idempotencyKey = extra.idempotencyKey ?? `${runId}/task/1`;
    const message = create(RunTaskSchema, { runId, taskId: 'task', stepKind, idempotencyKey, params: params as never, attempt: extra.attempt ?? 1, pipelineName, timeoutMs: extra.timeoutMs ?? 0n });
    await producer.publish([contractMessage({ topic: taskCommandsTopic, key: runId, id: randomUUID(), source: '/loopline/tests', time: new Date(), message })]);
    return idempotencyKey;
  }

  function answersFor(runId: string): Answer[] {
    return results.records
      .filter((record) => record.key?.toString() === runId)
      .map((record) => {
        const event: DecodedEvent = decodeEvent(record, taskResultsTopic);
        return { type: event.type, key: event.key, id: event.id, message: event.message as unknown as Answer['message'] };
      });
  }

  const callsFor = (runId: string) => calls.filter((call) => call.runId === runId);

  it('answers TaskCompleted with the outputs and the logs, executing a command delivered twice once', async () => {
    const runId = randomUUID();
    const key = await send(runId, StepKind.INGEST_DATASET, { sourceName: 'flights' });
    await send(runId, StepKind.INGEST_DATASET, { sourceName: 'flights' });
    await eventually(() => answersFor(runId).length >= 1, { timeoutMs: 30_000, what: 'TaskCompleted' });
    await eventually(async () => (await executions[0]!.ledger.find(key))?.published === true, { timeoutMs: 10_000, what: 'the answer recorded as published' });
    const [answer] = answersFor(runId);
    assert.equal(answer!.type, TaskCompletedSchema.typeName);
    assert.deepEqual(answer!.message.outputs, { datasetVersionId: 'v-flights', rowCount: 3, created: true });
    assert.equal(answer!.message.executor, 'ingestion');
    assert.equal(answer!.message.idempotencyKey, key);
    assert.match(answer!.message.logsTail ?? '', /ingesting flights/);

    // A re-sent command (orchestration missed the answer) gets the recorded answer again. (The
    // duplicate sent above got no answer if it came while the work ran, the recorded one if after.)
    const answeredBefore = answersFor(runId).length;
    await send(runId, StepKind.INGEST_DATASET, { sourceName: 'flights' });
    await eventually(() => answersFor(runId).length > answeredBefore, { timeoutMs: 20_000, what: 'the answer sent again' });
    for (const again of answersFor(runId)) {
      assert.deepEqual(again.message.outputs, answer!.message.outputs);
      assert.equal(again.id, answer!.id, 'same CloudEvents id for the same attempt');
    }
    assert.equal(callsFor(runId).length, 1, 'executed once');
  });

  it('answers TaskFailed with the classified error: a TaskFailure as thrown, a ValidationError as INVALID_REQUEST, neither retryable', async () => {
    const missing = randomUUID();
    const invalid = randomUUID();
    await send(missing, StepKind.INGEST_DATASET, { sourceName: 'missing' });
    await send(invalid, StepKind.INGEST_DATASET, { sourceName: 'invalid' });
    await eventually(() => answersFor(missing).length >= 1 && answersFor(invalid).length >= 1, { timeoutMs: 30_000, what: 'two TaskFailed' });
    const [notFound] = answersFor(missing);
    assert.equal(notFound!.type, TaskFailedSchema.typeName);
    assert.deepEqual([notFound!.message.error!.code, notFound!.message.error!.retryable], ['SOURCE_NOT_FOUND', false]);
    assert.match(notFound!.message.error!.message, /"missing" does not exist/);
    assert.match(notFound!.message.error!.logsTail, /SOURCE_NOT_FOUND/);
    const [rejected] = answersFor(invalid);
    assert.deepEqual([rejected!.message.error!.code, rejected!.message.error!.retryable], ['INVALID_REQUEST', false]);
    assert.match(rejected!.message.error!.message, /format/);
  });

  it('ignores the kinds it does not execute', async () => {
    const other = randomUUID();
    const mine = randomUUID();
    await send(other, StepKind.TRAIN_MODEL, { sourceName: 'not-mine' });
    await send(mine, StepKind.INGEST_DATASET, { sourceName: 'after' });
    // Commands of one run key are ordered per partition, not across keys: wait for the later one, then check the earlier one got nothing.
    await eventually(() => answersFor(mine).length >= 1, { timeoutMs: 30_000, what: 'the ingest answer' });
    await eventually(async () => (await executions[0]!.ledger.find(`${other}/task/1`)) === null, { timeoutMs: 1_000, what: 'no ledger row for train' });
    assert.equal(answersFor(other).length, 0);
    assert.equal(callsFor(other).length, 0);
  });

  it('honours timeout_ms: the handler is aborted and the answer is TaskFailed TIMEOUT, retryable', async () => {
    const runId = randomUUID();
    await send(runId, StepKind.INGEST_DATASET, { sourceName: 'slow', hold: true }, { timeoutMs: 300n });
    await eventually(() => answersFor(runId).length >= 1, { timeoutMs: 30_000, what: 'TaskFailed TIMEOUT' });
    const [answer] = answersFor(runId);
    assert.equal(answer!.type, TaskFailedSchema.typeName);
    assert.deepEqual([answer!.message.error!.code, answer!.message.error!.retryable], ['TIMEOUT', true]);
    assert.equal(callsFor(runId)[0]!.signal.aborted, true, 'the handler was told to stop');
  });

  it('does not answer while the task runs; a stopped executor’s claim is taken over and answered once', async () => {
    const runId = randomUUID();
    const key = await send(runId, StepKind.INGEST_DATASET, { sourceName: 'held', hold: true });
    await eventually(() => releases.has(key), { timeoutMs: 30_000, what: 'the task running' });
    // Re-sent while in progress: nothing is answered, nothing runs twice.
    await send(runId, StepKind.INGEST_DATASET, { sourceName: 'held', hold: true });
    await eventually(async () => (await executions[0]!.ledger.find(key))?.status === 'running', { timeoutMs: 5_000, what: 'the claim' });
    assert.equal(callsFor(runId).length, 1);
    assert.equal(answersFor(runId).length, 0);

    // The first executor stops mid-task (aborted, unanswered); a second one takes the expired claim over.
    releases.delete(key);
    await executions[0]!.stop();
    const second = start({ leaseMs: 1_500 });
    await second.started;
    await eventually(() => releases.has(key), { timeoutMs: 30_000, what: 'the task resumed by the second executor' });
    releases.get(key)!();
    await eventually(() => answersFor(runId).length >= 1, { timeoutMs: 30_000, what: 'the answer of the resumed task' });
    assert.equal(callsFor(runId).length, 2, 'run again after the first executor stopped');
    assert.deepEqual(
      answersFor(runId).map((answer) => answer.type),
      [TaskCompletedSchema.typeName],
    );
  });
});
