// Orchestration's own task worker: consumes `RunTask` commands like every other executing
// service, handles the kinds orchestration owns (command, evaluate, register, promote, deploy),
// and answers with `TaskCompleted` / `TaskFailed` on the results topic.
//
// Exactly one effect per idempotency key: an execution row is claimed before the work starts and
// leased while it runs (renewed every third of the lease). A redelivered or re-sent command finds
// the row: finished → its recorded result is published again (same CloudEvents id, so the
// results inbox drops it); leased → ignored (the holder will answer); lease expired → the holder
// died, so this worker runs it again. The Kafka handler only claims and returns: the work runs
// beside the consumer, so a long command never blocks a partition or a rebalance.
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { RunTaskSchema, isEvent, type RunTask } from '@loopline/contracts';
import { createEventProducer, subscribeToEvents, type EventProducer, type Subscription } from '@loopline/messaging';
import type { Logger } from '@loopline/telemetry';
import { runsInOrchestrationWorker } from '../../domain/pipeline/step-kinds';
import type { Json } from '../../domain/run/pipeline-run';
import type { WorkerExecution } from '../../application/ports';
import type { PostgresOrchestrationStorage } from '../postgres/orchestration-storage';
import { resultMessage, stepKindName, taskCommandsTopic, taskResultsTopic, type ExecutionOutcome } from '../kafka/contract-messages';
import type { Executor, TaskExecution } from './executors';

export const workerExecutorName = 'orchestration-worker';

export interface TaskWorkerOptions {
  readonly groupId: string;
  readonly leaseMs: number;
  readonly concurrency: number;
  /** Identifies this worker in execution rows (host, pid, random). */
  readonly owner: string;
}

export interface RunsPort {
  /** Whether the run still waits for this task under this key. */
  isAwaiting(runId: string, taskId: string, idempotencyKey: string): Promise<boolean>;
}

interface InFlight {
  readonly key: string;
  readonly controller: AbortController;
  readonly command: RunTask;
  readonly done: Promise<void>;
}

export class TaskWorker {
  private subscription: Subscription | undefined;
  private producer: EventProducer | undefined;
  private readonly inFlight = new Map<string, InFlight>();
  private readonly waiting: (() => void)[] = [];
  private active = 0;
  private renewTimer: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly storage: PostgresOrchestrationStorage,
    private readonly runs: RunsPort,
    private readonly executors: Partial<Record<string, Executor>>,
    private readonly logger: Logger,
    private readonly options: TaskWorkerOptions,
  ) {}

  get running(): boolean {
    return this.subscription?.isRunning() ?? false;
  }

  async start(): Promise<void> {
    this.producer = createEventProducer(this.kafka, { logger: this.logger });
    await this.producer.connect();
    this.renewTimer = setInterval(() => void this.renewLeases(), Math.max(100, Math.floor(this.options.leaseMs / 3)));
    this.subscription = await subscribeToEvents(this.kafka, {
      groupId: this.options.groupId,
      topics: [taskCommandsTopic],
      fromBeginning: true,
      logger: this.logger,
      handlerTimeoutMs: 5_000,
      group: { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 1_000, maxWaitTimeMs: 100 },
      handle: async (event) => {
        if (!isEvent(event, RunTaskSchema)) return;
        await this.accept(event.message);
      },
    });
  }

  private async accept(command: RunTask): Promise<void> {
    const kind = stepKindName(command.stepKind);
    if (kind === undefined || !runsInOrchestrationWorker(kind) || this.executors[kind] === undefined) return;
    if (this.inFlight.has(command.idempotencyKey)) return;
    // A command of a run that moved on (cancelled, superseded attempt) or that this deployment
    // does not know is not executed.
    if (!(await this.runs.isAwaiting(command.runId, command.taskId, command.idempotencyKey))) {
      this.logger.debug({ runId: command.runId, taskId: command.taskId }, 'task command no longer awaited; skipped');
      return;
    }
    const claim = await this.storage.claimExecution({
      key: command.idempotencyKey,
      runId: command.runId,
      taskId: command.taskId,
      attempt: command.attempt,
      owner: this.options.owner,
      leaseMs: this.options.leaseMs,
    });
    if (claim.status === 'busy') return;
    if (claim.status === 'done') {
      await this.publish(command, outcomeOf(claim.execution), resultIdOf(claim.execution));
      return;
    }
    const controller = new AbortController();
    const entry: InFlight = { key: command.idempotencyKey, controller, command, done: this.execute(command, kind, controller) };
    this.inFlight.set(command.idempotencyKey, entry);
  }

  private async execute(command: RunTask, kind: string, controller: AbortController): Promise<void> {
    await this.slot();
    try {
      if (this.stopping) return;
      const execution: TaskExecution = {
        runId: command.runId,
        taskId: command.taskId,
        attempt: command.attempt,
        idempotencyKey: command.idempotencyKey,
        pipelineName: command.pipelineName,
        kind: kind as TaskExecution['kind'],
        params: (command.params ?? {}) as Json,
        timeoutMs: Number(command.timeoutMs),
        signal: controller.signal,
      };
      this.logger.info({ runId: command.runId, taskId: command.taskId, attempt: command.attempt, kind }, 'task started');
      const outcome = await this.executors[kind]!(execution);
      if (this.stopping && controller.signal.aborted) return; // shutting down: the lease expires and another worker redoes it
      const resultId = randomUUID();
      await this.storage.finishExecution(command.idempotencyKey, this.options.owner, outcome.status, { ...outcome, resultId } as WorkerExecution['result']);
      await this.publish(command, outcome, resultId);
      this.logger.info({ runId: command.runId, taskId: command.taskId, status: outcome.status, code: outcome.error?.code }, 'task finished');
    } catch (error) {
      this.logger.error({ err: error, runId: command.runId, taskId: command.taskId }, 'task execution failed unexpectedly; the deadline will retry it');
    } finally {
      this.inFlight.delete(command.idempotencyKey);
      this.releaseSlot();
    }
  }

  /** Waits for a free execution slot (at most `concurrency` executions at once). */
  private async slot(): Promise<void> {
    if (this.active < this.options.concurrency) {
      this.active += 1;
      return;
    }
    // The finishing execution hands its slot over: `active` stays the same.
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private releaseSlot(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active -= 1;
  }

  private async publish(command: RunTask, outcome: ExecutionOutcome, resultId: string): Promise<void> {
    const encoded = resultMessage(command, outcome, workerExecutorName, resultId);
    await this.producer!.publish([{ topic: taskResultsTopic, ...encoded }]);
  }

  private async renewLeases(): Promise<void> {
    const entries = [...this.inFlight.values()];
    if (entries.length === 0) return;
    try {
      await this.storage.renewLeases(
        entries.map((entry) => entry.key),
        this.options.owner,
        this.options.leaseMs,
      );
      // A run that stopped waiting (cancelled, replaced, failed elsewhere) stops its work.
      for (const entry of entries) {
        if (!(await this.runs.isAwaiting(entry.command.runId, entry.command.taskId, entry.key))) entry.controller.abort();
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'could not renew task leases');
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.renewTimer) clearInterval(this.renewTimer);
    await this.subscription?.stop();
    for (const entry of this.inFlight.values()) entry.controller.abort();
    for (const resolve of this.waiting.splice(0)) resolve();
    await Promise.all([...this.inFlight.values()].map((entry) => entry.done));
    await this.producer?.disconnect();
  }
}

function outcomeOf(execution: WorkerExecution): ExecutionOutcome {
  const result = execution.result;
  const now = new Date().toISOString();
  return {
    status: execution.status,
    outputs: result?.outputs,
    error: result?.error,
    logs: result?.logs ?? '',
    startedAt: result?.startedAt ?? now,
    endedAt: result?.endedAt ?? now,
  };
}

function resultIdOf(execution: WorkerExecution): string {
  return (execution.result as { resultId?: string } | null)?.resultId ?? randomUUID();
}
