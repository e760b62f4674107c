// The feature store as an executor of pipeline tasks: consumes `RunTask` on
// `loopline.orchestration.task-commands.v1` through @loopline/messaging's task execution (an
// idempotency ledger in `feature_store.task_executions`, results on
// `loopline.orchestration.task-results.v1`, timeouts), and runs `materialize` and
// `build_training_set`. Failures are classified with the feature store's own codes, so an
// operator reading a failed run knows what to fix.
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import { isLooplineError } from '@loopline/errors';
import { classifyTaskError, startTaskExecution, type TaskErrorInfo, type TaskExecution } from '@loopline/messaging';
import type { Logger } from '@loopline/telemetry';
import type { PipelineTasks } from '../../application/pipeline-tasks';
import { featureStoreSchema } from '../postgres/schema';

export const featureStoreExecutor = 'feature-store';
export const defaultTaskConsumerGroup = 'feature-store-task-executor';

export interface PipelineTaskExecutionOptions {
  readonly groupId: string;
  /** Only commands of these pipelines (null: all). */
  readonly pipelines: readonly string[] | null;
  readonly concurrency: number;
  readonly replicationFactor: number;
}

/**
 * TaskFailed codes of the feature store (besides the shared `TIMEOUT`, `UNAVAILABLE`,
 * `EXECUTOR_ERROR`):
 * - `INVALID_REQUEST` — a param is missing, mistyped or unknown, or the request breaks a rule (the
 *   message names it); fix the pipeline. Not retryable.
 * - `FEATURE_VIEW_NOT_FOUND` — no such feature view (version); apply the definitions. Not retryable.
 * - `DATASET_NOT_FOUND` — ingestion knows no such source or dataset version. Not retryable.
 * - `DATASET_INTEGRITY` — a downloaded dataset version's SHA-256 differs from the described one.
 *   Retryable (a damaged transfer).
 */
export function classifyFeatureStoreTaskError(error: unknown): TaskErrorInfo {
  if (isLooplineError(error)) {
    if (error.code === 'NOT_FOUND' && error.details.reason === 'dataset_not_found') return { code: 'DATASET_NOT_FOUND', message: error.message, retryable: false };
    if (error.code === 'NOT_FOUND' && typeof error.details.view === 'string') return { code: 'FEATURE_VIEW_NOT_FOUND', message: error.message, retryable: false };
    if (error.code === 'DATA_LOSS') return { code: 'DATASET_INTEGRITY', message: error.message, retryable: true };
  }
  return classifyTaskError(error);
}

export function startPipelineTaskExecution(kafka: Kafka, pool: Pool, tasks: PipelineTasks, logger: Logger, options: PipelineTaskExecutionOptions): TaskExecution {
  return startTaskExecution({
    kafka,
    pool,
    schema: featureStoreSchema,
    executor: featureStoreExecutor,
    groupId: options.groupId,
    logger,
    concurrency: options.concurrency,
    replicationFactor: options.replicationFactor,
    classifyError: classifyFeatureStoreTaskError,
    accept: options.pipelines === null ? undefined : (command) => options.pipelines!.includes(command.pipelineName),
    kinds: {
      materialize: (task, progress) => tasks.materialize(task.params, (line) => progress.log(line)),
      build_training_set: (task, progress) => tasks.buildTrainingSet(task.params, (line) => progress.log(line)),
    },
  });
}
