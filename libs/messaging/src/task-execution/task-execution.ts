// The generic pipeline-task executor: consumes RunTask, runs the owned kinds beside the consumer,
// keeps one effect per idempotency key, and answers TaskCompleted / TaskFailed.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { create, type JsonObject } from '@bufbuild/protobuf';
import { timestampDate, timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { encodeEvent, getTopic, isEvent, RunTaskSchema, TaskCompletedSchema, TaskFailedSchema, type RunTask } from '@loopline/contracts';
import { subscribeToEvents } from '../contract-events';
import { createEventProducer, type EventProducer } from '../event-producer';
import type { Subscription } from '../subscription';
import { ensureTopics } from '../topics';
import { classifyTaskError, LogsTail, type TaskErrorInfo } from './task-failure';
import { stepKindOfTask, taskKindOf, type TaskKindName } from './task-kinds';
import { TaskLedger, type RecordedCommand, type RecordedResult } from './task-ledger';

export const taskCommandsTopic = 'loopline.orchestration.task-commands.v1';
export const taskResultsTopic = 'loopline.orchestration.task-results.v1';

/** A task as a handler receives it. */
export interface ExecutableTask extends RecordedCommand {
  /** Aborted when the task's `timeout_ms` has passed or the executor is stopping: stop working. */
  readonly signal: AbortSignal;
  /** When this execution (the first claim of the key) started. */
  readonly startedAt: string;
}

/** What a handler may report while it works: log lines end up in the answer's `logs_tail`. */
export interface TaskProgress {
  log(line: string): void;
}

/** Does the work of one kind and returns the kind's declared outputs; throws to fail the task. */
export type TaskHandler = (task: ExecutableTask, progress: TaskProgress) => Promise<Record<string, unknown>>;

export interface TaskExecutionOptions {
  readonly kafka: Kafka;
  /** The service's PostgreSQL pool: the ledger lives in `schema`.task_executions. */
  readonly pool: Pool;
  readonly schema: string;
  /** The executor's name in answers (TaskCompleted.executor), e.g. `ingestion`. */
  readonly executor: string;
  /** The kinds this service executes and their handlers; commands of other kinds are ignored. */
  readonly kinds: Partial<Record<TaskKindName, TaskHandler>>;
  readonly logger: Logger;
  /** Consumer group; default `<executor>-task-executor`. Replicas share it (a work queue). */
  readonly groupId?: string;
  /** Whether to execute a command at all (e.g. only some pipelines); default all. */
  readonly accept?: (command: RecordedCommand) => boolean;
  /** How long a claim lasts without renewal (renewed every third of it); default 30 s. */
  readonly leaseMs?: number;
  /** Tasks executed at once; default 2. */
  readonly concurrency?: number;
  readonly replicationFactor?: number;
  /** Maps a thrown error to TaskFailed.error; default `classifyTaskError`. */
  readonly classifyError?: (error: unknown) => TaskErrorInfo;
  /** CloudEvents source of the answers; default `/loopline/<executor>`. */
  readonly source?: string;
}

export interface TaskExecution {
  /** True once the consumer runs. */
  readonly running: boolean;
  /** Resolves when the consumer has joined its group (retries until Kafka and Postgres answer). */
  readonly started: Promise<void>;
  /** The ledger, for operators and tests. */
  readonly ledger: TaskLedger;
  /** Stops consuming and aborts running tasks; their claims expire and are taken over (here at next start, or by a replica). */
  stop(): Promise<void>;
}

/** Starts executing tasks in the background; `started` resolves once it consumes. */
export function startTaskExecution(options: TaskExecutionOptions): TaskExecution {
  const executor = new TaskExecutor(options);
  executor.start();
  return executor;
}

interface InFlight {
  readonly key: string;
  readonly controller: AbortController;
  readonly done: Promise<void>;
}

class TaskExecutor implements TaskExecution {
  readonly ledger: TaskLedger;
  readonly started: Promise<void>;
  private resolveStarted!: () => void;
  private subscription: Subscription | undefined;
  private producer: EventProducer | undefined;
  private readonly inFlight = new Map<string, InFlight>();
  private readonly waiting: (() => void)[] = [];
  private active = 0;
  private sweepTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly owner = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
  private readonly leaseMs: number;
  private readonly concurrency: number;
  private readonly kinds: TaskKindName[];
  private readonly logger: Logger;
  private readonly classify: (error: unknown) => TaskErrorInfo;

  constructor(private readonly options: TaskExecutionOptions) {
    this.ledger = new TaskLedger(options.pool, options.schema);
    this.leaseMs = options.leaseMs ?? 30_000;
    this.concurrency = options.concurrency ?? 2;
    this.kinds = (Object.keys(options.kinds) as TaskKindName[]).filter((kind) => options.kinds[kind] !== undefined);
    this.logger = options.logger.child({ component: 'task-execution', executor: options.executor });
    this.classify = options.classifyError ?? classifyTaskError;
    this.started = new Promise<void>((resolve) => (this.resolveStarted = resolve));
    if (this.kinds.length === 0) throw new Error('startTaskExecution: no task kinds to execute');
  }

  get running(): boolean {
    return this.subscription?.isRunning() ?? false;
  }

  start(): void {
    this.loop ??= this.startWithRetries();
  }

  private async startWithRetries(): Promise<void> {
    for (let attempt = 1; !this.stopping; attempt += 1) {
      try {
        await this.ledger.migrate();
        const admin = this.options.kafka.admin();
        await admin.connect();
        try {
          const replicationFactor = this.options.replicationFactor ?? 1;
          await ensureTopics(admin, [
            { topic: taskCommandsTopic, numPartitions: getTopic(taskCommandsTopic).partitions, replicationFactor, withDeadLetterTopic: true },
            { topic: taskResultsTopic, numPartitions: getTopic(taskResultsTopic).partitions, replicationFactor },
          ]);
        } finally {
          await admin.disconnect();
        }
        if (this.stopping) return;
        this.producer ??= createEventProducer(this.options.kafka, { logger: this.logger });
        await this.producer.connect();
        // Sweeping needs no consumer: a claim left by a dead process is taken over even while the
        // group still waits for that process's session to expire.
        this.sweepTimer ??= setInterval(() => void this.sweep(), Math.max(100, Math.floor(this.leaseMs / 3)));
        void this.sweep();
        this.subscription = await subscribeToEvents(this.options.kafka, {
          groupId: this.options.groupId ?? `${this.options.executor}-task-executor`,
          topics: [taskCommandsTopic],
          fromBeginning: true,
          logger: this.logger,
          handlerTimeoutMs: 10_000,
          handle: async (event) => {
            if (isEvent(event, RunTaskSchema)) await this.accept(event.message);
          },
        });
        this.logger.info({ topic: taskCommandsTopic, kinds: this.kinds }, 'executing pipeline tasks');
        this.resolveStarted();
        return;
      } catch (error) {
        const delay = Math.min(10_000, 500 * 2 ** Math.min(attempt - 1, 10));
        this.logger.warn({ err: error, attempt, retryInMs: delay }, 'could not consume task commands yet; retrying');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  }

  /** The Kafka handler: claims and returns; the work runs beside the consumer. */
  private async accept(message: RunTask): Promise<void> {
    const kind = taskKindOf(message.stepKind);
    if (kind === undefined || this.options.kinds[kind] === undefined) return;
    const command = recordedCommand(message, kind);
    if (this.options.accept && !this.options.accept(command)) return;
    if (this.inFlight.has(command.idempotencyKey) || this.stopping) return;
    const claim = await this.ledger.claim(command, this.owner, this.leaseMs);
    if (claim.status === 'busy') {
      this.logger.debug({ idempotencyKey: command.idempotencyKey }, 'task already in progress elsewhere; not answered');
      return;
    }
    if (claim.status === 'done') {
      this.logger.info({ runId: command.runId, taskId: command.taskId, idempotencyKey: command.idempotencyKey, status: claim.result.status }, 'task already executed; answering with the recorded result');
      await this.publish(command, claim.result);
      return;
    }
    this.run(command, claim.startedAt);
  }

  private run(command: RecordedCommand, startedAt: string): void {
    const controller = new AbortController();
    const entry: InFlight = { key: command.idempotencyKey, controller, done: this.execute(command, startedAt, controller) };
    this.inFlight.set(command.idempotencyKey, entry);
  }

  private async execute(command: RecordedCommand, startedAt: string, controller: AbortController): Promise<void> {
    await this.slot();
    let timer: NodeJS.Timeout | undefined;
    try {
      if (this.stopping) return;
      const handler = this.options.kinds[command.kind]!;
      const logs = new LogsTail();
      const fields = { runId: command.runId, taskId: command.taskId, attempt: command.attempt, kind: command.kind, idempotencyKey: command.idempotencyKey };
      this.logger.info(fields, `task ${command.kind} started`);
      const timedOut = new Promise<'timeout'>((resolve) => {
        if (command.timeoutMs > 0) {
          timer = setTimeout(() => {
            controller.abort(new Error(`the task did not finish within its timeout of ${command.timeoutMs} ms`));
            resolve('timeout');
          }, command.timeoutMs);
        }
      });
      const task: ExecutableTask = { ...command, signal: controller.signal, startedAt };
      const progress: TaskProgress = { log: (line) => logs.append(line) };
      let result: Omit<RecordedResult, 'resultId' | 'attempt' | 'endedAt'>;
      try {
        const outcome = await Promise.race([handler(task, progress), timedOut]);
        if (outcome === 'timeout') {
          result = { status: 'failed', error: { code: 'TIMEOUT', message: `the task did not finish within its timeout of ${command.timeoutMs} ms`, retryable: true }, logsTail: logs.toString(), startedAt };
        } else {
          result = { status: 'completed', outputs: outcome, logsTail: logs.toString(), startedAt };
        }
      } catch (error) {
        // Stopping: no answer; the claim expires and the task is taken over and redone.
        if (this.stopping && controller.signal.aborted) return;
        const failure = this.classify(error);
        if (!failure.retryable) this.logger.warn({ ...fields, code: failure.code }, `task ${command.kind} failed: ${failure.message}`);
        else this.logger.warn({ ...fields, code: failure.code, err: error }, `task ${command.kind} failed (retryable): ${failure.message}`);
        logs.append(`${failure.code}: ${failure.message}`);
        result = { status: 'failed', error: failure, logsTail: logs.toString(), startedAt };
      }
      if (this.stopping && controller.signal.aborted && result.error?.code !== 'TIMEOUT') return;
      const recorded: RecordedResult = { ...result, resultId: randomUUID(), attempt: command.attempt, endedAt: new Date().toISOString() };
      if (!(await this.ledger.finish(command.idempotencyKey, this.owner, recorded))) {
        this.logger.warn(fields, 'the task was taken over by another executor (lease expired); its answer is theirs');
        return;
      }
      await this.publish(command, recorded);
      this.logger.info({ ...fields, status: recorded.status, code: recorded.error?.code }, `task ${command.kind} ${recorded.status}`);
    } catch (error) {
      // The ledger or Kafka failed: the sweep republishes a recorded answer, or the claim expires and the task is redone.
      this.logger.error({ err: error, runId: command.runId, taskId: command.taskId }, 'could not record or answer a task; it will be retried');
    } finally {
      if (timer) clearTimeout(timer);
      this.inFlight.delete(command.idempotencyKey);
      this.releaseSlot();
    }
  }

  /** Publishes the answer to `command` (the command being answered now: its attempt, run and task). */
  private async publish(command: RecordedCommand, result: RecordedResult): Promise<void> {
    const common = {
      runId: command.runId,
      taskId: command.taskId,
      attempt: command.attempt,
      idempotencyKey: command.idempotencyKey,
      stepKind: stepKindOfTask(command.kind),
      executor: this.options.executor,
      startedAt: timestampFromDate(new Date(result.startedAt)),
    };
    const ended = timestampFromDate(new Date(result.endedAt));
    const message =
      result.status === 'completed'
        ? create(TaskCompletedSchema, { ...common, outputs: (result.outputs ?? {}) as JsonObject, completedAt: ended, logsTail: result.logsTail })
        : create(TaskFailedSchema, {
            ...common,
            error: { code: result.error?.code ?? 'EXECUTOR_ERROR', message: result.error?.message ?? '', retryable: result.error?.retryable ?? true, logsUri: result.error?.logsUri ?? '', logsTail: result.logsTail },
            failedAt: ended,
          });
    const encoded = encodeEvent({
      topic: taskResultsTopic,
      key: command.runId,
      // The same answer to the same attempt keeps its id, so the results inbox drops a copy.
      id: command.attempt === result.attempt ? result.resultId : `${result.resultId}/${command.attempt}`,
      source: this.options.source ?? `/loopline/${this.options.executor}`,
      time: new Date(result.endedAt),
      subject: `${command.runId}/${command.taskId}`,
      message,
    });
    await this.producer!.publish([{ topic: taskResultsTopic, ...encoded }]);
    await this.ledger.markPublished(command.idempotencyKey);
  }

  /** Renews this executor's claims; takes over abandoned ones; republishes unconfirmed answers. */
  private async sweep(): Promise<void> {
    if (this.stopping) return;
    try {
      await this.ledger.renew([...this.inFlight.keys()], this.owner, this.leaseMs);
      const free = this.concurrency - this.active;
      if (free > 0) {
        for (const { command, startedAt } of await this.ledger.claimAbandoned(this.kinds, this.owner, this.leaseMs, free)) {
          if (this.stopping) break;
          if (this.inFlight.has(command.idempotencyKey)) continue;
          this.logger.warn({ runId: command.runId, taskId: command.taskId, idempotencyKey: command.idempotencyKey }, 'resuming a task whose executor stopped before answering');
          this.run(command, startedAt);
        }
      }
      for (const { command, result } of await this.ledger.unpublished(this.kinds, this.leaseMs, 20)) await this.publish(command, result);
    } catch (error) {
      this.logger.warn({ err: error }, 'task ledger sweep failed; retrying');
    }
  }

  private async slot(): Promise<void> {
    if (this.active < this.concurrency) {
      this.active += 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private releaseSlot(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active -= 1;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    await this.subscription?.stop();
    for (const entry of this.inFlight.values()) entry.controller.abort(new Error('the executor is stopping'));
    for (const resolve of this.waiting.splice(0)) resolve();
    // Handlers that ignore the signal are not waited for long: their claims expire either way.
    await Promise.race([Promise.all([...this.inFlight.values()].map((entry) => entry.done)), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
    await this.producer?.disconnect();
  }
}

function recordedCommand(message: RunTask, kind: TaskKindName): RecordedCommand {
  const key = message.idempotencyKey !== '' ? message.idempotencyKey : `${message.runId}/${message.taskId}/${message.attempt}`;
  return {
    runId: message.runId,
    taskId: message.taskId,
    attempt: message.attempt,
    idempotencyKey: key,
    pipelineName: message.pipelineName,
    kind,
    params: (message.params ?? {}) as Record<string, unknown>,
    timeoutMs: Number(message.timeoutMs),
    deadline: message.deadline ? timestampDate(message.deadline).toISOString() : null,
    cacheKey: message.cacheKey,
  };
}

