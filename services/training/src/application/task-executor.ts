// Executes the pipeline tasks orchestration sends on `loopline.orchestration.task-commands.v1`
// whose step kind is training's (`train`, `tune`): idempotent on the command's idempotency key.
//
// - The run of a task has an id derived from the key, and its start is recorded in the same
//   transaction as the inbox row (group `training-task-executor`, id = the key): a command
//   delivered twice starts one run.
// - The result (TaskCompleted / TaskFailed) is written to the outbox with the run's completion,
//   so it is published at least once and never before the run's state says so.
// - A duplicate of a finished task is answered again with the recorded result (RunTask's
//   contract: "a handler that has already seen it answers with its recorded result"); a
//   duplicate of a task still running here is ignored; one whose run is RUNNING but no longer
//   executing (its process died) is resumed.
import type { Pool, PoolClient } from 'pg';
import type { Inbox } from '@loopline/eventsourcing';
import { isLooplineError } from '@loopline/errors';
import type { Logger } from '@loopline/telemetry';
import type { TaskRef } from '../domain/training-run/training-run';
import { deterministicId } from './ids';
import type { TrainingJobRequest, TuningJobRequest } from './job-requests';
import type { RequestContext } from './ports';
import type { Tracking } from './tracking';
import { failureOf, type TrainingJobs } from './training-jobs';

export const taskConsumerGroup = 'training-task-executor';

/** A RunTask command, as the Kafka adapter hands it over. */
export interface TaskCommand {
  readonly pipelineRunId: string;
  readonly taskId: string;
  readonly stepKind: 'train' | 'tune' | 'other';
  readonly idempotencyKey: string;
  readonly attempt: number;
  readonly pipelineName: string;
  readonly params: Readonly<Record<string, unknown>>;
}

export interface TaskExecutorDeps {
  readonly pool: Pool;
  readonly inbox: Inbox;
  readonly tracking: Tracking;
  readonly jobs: TrainingJobs;
  readonly logger: Logger;
  /** Parses a task's params into a job request; throws `ValidationError` naming the bad field. */
  readonly parseTrain: (params: Readonly<Record<string, unknown>>, defaults: { readonly experimentName: string }) => TrainingJobRequest;
  readonly parseTune: (params: Readonly<Record<string, unknown>>, defaults: { readonly experimentName: string }) => TuningJobRequest;
}

export type TaskOutcome = 'started' | 'rejected' | 'answered-again' | 'already-running' | 'resumed' | 'ignored';

export class TaskExecutor {
  constructor(private readonly deps: TaskExecutorDeps) {}

  /** The training run that executes a command (derived from its idempotency key). */
  static runIdOf(command: Pick<TaskCommand, 'idempotencyKey' | 'pipelineRunId' | 'taskId' | 'attempt'>): string {
    return deterministicId(`training-task/${keyOf(command)}`);
  }

  async handle(command: TaskCommand): Promise<TaskOutcome> {
    if (command.stepKind === 'other') return 'ignored';
    const key = keyOf(command);
    const runId = TaskExecutor.runIdOf(command);
    const context: RequestContext = { actor: `pipeline:${command.pipelineName || command.pipelineRunId}`, correlationId: command.pipelineRunId };
    const task: TaskRef = {
      pipelineRunId: command.pipelineRunId,
      taskId: command.taskId,
      attempt: command.attempt,
      idempotencyKey: key,
      stepKind: command.stepKind,
      pipelineName: command.pipelineName,
    };

    const existing = await this.deps.tracking.findRun(runId);
    if (existing) return this.duplicate(runId, key, existing.status, context);

    // Validate and record the run. Starting is idempotent on the run id; the inbox row, written
    // in its own transaction right after, makes the key's first handling visible to operators
    // and to `Inbox.prune` (the run stream is the guard against a second start).
    const defaults = { experimentName: typeof command.params.experiment === 'string' ? command.params.experiment : command.pipelineName || 'default' };
    let outcome: TaskOutcome = 'started';
    try {
      if (command.stepKind === 'tune') await this.deps.jobs.startTuning(this.deps.parseTune(command.params, defaults), context, { runId, task });
      else await this.deps.jobs.startTraining(this.deps.parseTrain(command.params, defaults), context, { runId, task });
    } catch (error) {
      if (!isLooplineError(error) || (error.code !== 'VALIDATION' && error.code !== 'NOT_FOUND')) throw error; // transient: Kafka retries
      // A request that can never work is answered at once: TaskFailed, not retryable.
      const failure = failureOf(error);
      this.deps.logger.warn({ runId, taskId: command.taskId, err: error }, 'task command rejected');
      await this.deps.jobs.recordRejected(command.stepKind, { ...command.params, experimentName: defaults.experimentName }, { ...failure, retryable: false }, runId, task, context);
      outcome = 'rejected';
    }
    await this.deps.inbox.handleOnce(this.deps.pool, taskConsumerGroup, key, async (_tx: PoolClient) => undefined);
    return outcome;
  }

  private async duplicate(runId: string, key: string, status: string, context: RequestContext): Promise<TaskOutcome> {
    if (status !== 'RUNNING') {
      await this.deps.tracking.resendTaskResult(runId, key, context);
      return 'answered-again';
    }
    if (this.deps.jobs.isExecuting(runId)) return 'already-running';
    this.deps.jobs.schedule(runId);
    return 'resumed';
  }
}

function keyOf(command: Pick<TaskCommand, 'idempotencyKey' | 'pipelineRunId' | 'taskId' | 'attempt'>): string {
  return command.idempotencyKey !== '' ? command.idempotencyKey : `${command.pipelineRunId}/${command.taskId}/${command.attempt}`;
}
