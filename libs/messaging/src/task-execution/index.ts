/**
 * Executing pipeline tasks: what every service that owns step kinds (ingestion, feature-store,
 * training) shares. Orchestration sends `RunTask` on `loopline.orchestration.task-commands.v1`;
 * this consumes it, runs the kinds the service owns, and answers `TaskCompleted{outputs}` or
 * `TaskFailed{error}` on `loopline.orchestration.task-results.v1` (docs/adr/0008-orchestration.md,
 * "Executors").
 *
 * ```ts
 * const execution = startTaskExecution({
 *   kafka, pool, schema: 'ingestion', executor: 'ingestion', logger,
 *   kinds: {
 *     ingest: async (task, progress) => {
 *       progress.log(`importing ${String(task.params.uri)}`);      // → logs_tail of the answer
 *       return { datasetVersionId, rowCount, created };            // the kind's declared outputs
 *     },
 *   },
 *   accept: (command) => pipelines === null || pipelines.includes(command.pipelineName), // optional
 * });
 * await execution.started;   // optional: consuming (it retries in the background until Kafka and Postgres answer)
 * await execution.stop();    // at shutdown, before the pool closes
 * ```
 *
 * Guarantees:
 * - Only the kinds in `kinds` are executed; other commands are skipped (other services own them).
 * - One effect per idempotency key. The key is claimed in `<schema>.task_executions` (created on
 *   start) before the handler runs, and leased while it runs (renewed every third of `leaseMs`).
 *   A redelivered or re-sent command finds the row: finished → the recorded answer is published
 *   again (same outputs; same CloudEvents id for the same attempt); in progress → nothing (the
 *   holder answers). A claim whose holder died (lease expired) is taken over and the handler runs
 *   again: handlers must therefore be idempotent themselves (content-addressed results, ids derived
 *   from `task.idempotencyKey`).
 * - The Kafka handler only claims; the work runs beside the consumer (at most `concurrency` at
 *   once), so a long task never blocks a partition or a rebalance.
 * - `timeout_ms` is honoured: `task.signal` aborts and the answer is `TaskFailed{TIMEOUT, retryable}`.
 * - Errors are classified (`classifyTaskError`, or `classifyError`): throw `TaskFailure(code,
 *   message, {retryable})` for a code of your own; `ValidationError` → `INVALID_REQUEST`,
 *   `NotFoundError` → `NOT_FOUND`, `IllegalStateError` → `ILLEGAL_STATE` (not retryable);
 *   `UnavailableError` and unknown errors are retryable.
 * - An answer is recorded before it is published; one whose publication was not confirmed is
 *   published again by the sweep. Orchestration deduplicates answers.
 * - On `stop()`, running handlers are aborted (`task.signal`) and not answered: their claims expire
 *   and the next start (or a replica) redoes them.
 */
export { startTaskExecution, taskCommandsTopic, taskResultsTopic, type ExecutableTask, type TaskExecution, type TaskExecutionOptions, type TaskHandler, type TaskProgress } from './task-execution';
export { classifyTaskError, LogsTail, maxLogsTailBytes, TaskFailure, type TaskErrorInfo } from './task-failure';
export { stepKindOfTask, taskKindOf, type TaskKindName } from './task-kinds';
export { TaskLedger, type RecordedCommand, type RecordedResult } from './task-ledger';
