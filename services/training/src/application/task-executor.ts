// Executes the pipeline tasks whose step kind is training's (`train`, `tune`), as handlers of the
// shared task executor (`startTaskExecution` of @loopline/messaging), which consumes the
// RunTask commands, keeps one effect per idempotency key in its ledger, honours timeouts and
// answers TaskCompleted / TaskFailed.
//
// - The run of a task has an id derived from the idempotency key, so a handler that runs again
//   for the same key (its first executor died; the claim was taken over) finds the run instead of
//   starting a second one: it resumes it if nothing executes it, and waits for it.
// - A request that can never work is recorded as a failed run (visible in tracking) and answered
//   with TaskFailed, not retryable.
import { TaskFailure, type ExecutableTask, type TaskErrorInfo, type TaskHandler } from '@loopline/messaging';
import { isLooplineError } from '@loopline/errors';
import type { Logger } from '@loopline/telemetry';
import type { TaskRef, TrainingRun } from '../domain/training-run/training-run';
import { deterministicId } from './ids';
import type { TrainingJobRequest, TuningJobRequest } from './job-requests';
import type { RequestContext } from './ports';
import type { Tracking } from './tracking';
import { failureOf, type TrainingJobs } from './training-jobs';

export const taskConsumerGroup = 'training-task-executor';

export interface TaskExecutorDeps {
  readonly tracking: Tracking;
  readonly jobs: TrainingJobs;
  readonly logger: Logger;
  /** Parses a task's params into a job request; throws `ValidationError` naming the bad field. */
  readonly parseTrain: (params: Readonly<Record<string, unknown>>, defaults: { readonly experimentName: string }) => TrainingJobRequest;
  readonly parseTune: (params: Readonly<Record<string, unknown>>, defaults: { readonly experimentName: string }) => TuningJobRequest;
}

/** How often a task waiting for its run looks again when the run is not executed by this process. */
const pollMs = 1_000;

export class TaskExecutor {
  constructor(private readonly deps: TaskExecutorDeps) {}

  /** The training run that executes a command (derived from its idempotency key). */
  static runIdOf(command: { readonly idempotencyKey: string; readonly pipelineRunId: string; readonly taskId: string; readonly attempt: number }): string {
    const key = command.idempotencyKey !== '' ? command.idempotencyKey : `${command.pipelineRunId}/${command.taskId}/${command.attempt}`;
    return deterministicId(`training-task/${key}`);
  }

  /** The handlers of training's kinds, for `startTaskExecution`. */
  handlers(): { readonly train: TaskHandler; readonly tune: TaskHandler } {
    return { train: (task) => this.execute('train', task), tune: (task) => this.execute('tune', task) };
  }

  private async execute(kind: 'train' | 'tune', task: ExecutableTask): Promise<Record<string, unknown>> {
    const runId = TaskExecutor.runIdOf({ idempotencyKey: task.idempotencyKey, pipelineRunId: task.runId, taskId: task.taskId, attempt: task.attempt });
    const context: RequestContext = { actor: `pipeline:${task.pipelineName || task.runId}`, correlationId: task.runId };
    const ref: TaskRef = { pipelineRunId: task.runId, taskId: task.taskId, attempt: task.attempt, idempotencyKey: task.idempotencyKey, stepKind: kind, pipelineName: task.pipelineName };
    if (!(await this.deps.tracking.findRun(runId))) await this.start(kind, task, runId, ref, context);
    return this.awaitRun(runId, task.signal);
  }

  private async start(kind: 'train' | 'tune', task: ExecutableTask, runId: string, ref: TaskRef, context: RequestContext): Promise<void> {
    const defaults = { experimentName: typeof task.params.experiment === 'string' ? task.params.experiment : task.pipelineName || 'default' };
    try {
      if (kind === 'tune') await this.deps.jobs.startTuning(this.deps.parseTune(task.params, defaults), context, { runId, task: ref });
      else await this.deps.jobs.startTraining(this.deps.parseTrain(task.params, defaults), context, { runId, task: ref });
    } catch (error) {
      if (!isLooplineError(error) || (error.code !== 'VALIDATION' && error.code !== 'NOT_FOUND')) throw error; // transient: classified retryable
      // A request that can never work: recorded as a failed run, answered TaskFailed (not retryable).
      const failure = { ...failureOf(error), retryable: false };
      this.deps.logger.warn({ runId, taskId: task.taskId, err: error }, 'task command rejected');
      await this.deps.jobs.recordRejected(kind, { ...task.params, experimentName: defaults.experimentName }, failure, runId, ref, context);
      throw new TaskFailure(failure.errorCode, failure.errorMessage, { retryable: false, cause: error });
    }
  }

  /** Waits for the run to end; resumes it when no job of this process executes it. */
  private async awaitRun(runId: string, signal: AbortSignal): Promise<Record<string, unknown>> {
    for (;;) {
      const run: TrainingRun = await this.deps.tracking.getRun(runId);
      if (run.status === 'FINISHED') return { ...run.outputs };
      if (run.status === 'FAILED' || run.status === 'KILLED') {
        const error = run.error ?? { code: 'KILLED', message: 'the run was killed', retryable: false, logsUri: '' };
        throw new TaskFailure(error.code, error.message, { retryable: error.retryable, logsUri: error.logsUri });
      }
      if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('the task was aborted');
      if (!this.deps.jobs.isExecuting(runId)) this.deps.jobs.schedule(runId);
      await Promise.race([this.deps.jobs.settled(runId), sleep(pollMs, signal)]);
    }
  }
}

/** TaskFailed.error of what a training task threw: the run's failure vocabulary (`failureOf`). */
export function taskErrorOf(error: unknown): TaskErrorInfo {
  if (error instanceof TaskFailure) return { code: error.code, message: error.message, retryable: error.retryable, logsUri: error.logsUri };
  const failure = failureOf(error);
  return { code: failure.errorCode, message: failure.errorMessage, retryable: failure.retryable, logsUri: failure.logsUri };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
