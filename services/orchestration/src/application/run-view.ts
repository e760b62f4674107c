// A run as the APIs show it (REST, gRPC, the CLI's live view), computed from the aggregate's
// state after every change and stored with the run (`orchestration.runs.view`).
import type { JsonValue } from '../domain/expressions/expression';
import { orderedTasks, type AttemptStatus, type PipelineRunState, type RunStatus, type RunTriggerInfo, type TaskErrorInfo, type TaskStatus } from '../domain/run/pipeline-run';
import type { StepKindName } from '../domain/pipeline/step-kinds';

export interface AttemptView {
  readonly attempt: number;
  readonly idempotencyKey: string;
  readonly status: AttemptStatus;
  readonly dispatchedAt: string | null;
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  readonly durationMs: number | null;
  readonly error: TaskErrorInfo | null;
  readonly executor: string;
}

export interface TaskView {
  readonly taskId: string;
  readonly stepKind: StepKindName;
  readonly status: TaskStatus;
  readonly dependsOn: readonly string[];
  readonly cached: boolean;
  readonly cachedFrom: { readonly runId: string; readonly taskId: string } | null;
  readonly skipReason: string | null;
  readonly inputs: JsonValue;
  readonly outputs: JsonValue;
  readonly cacheKey: string | null;
  readonly retryAt: string | null;
  readonly deadline: string | null;
  readonly attempts: readonly AttemptView[];
}

export interface RunView {
  readonly runId: string;
  readonly pipelineName: string;
  readonly pipelineVersion: number;
  readonly definitionHash: string;
  readonly status: RunStatus;
  readonly trigger: RunTriggerInfo;
  readonly params: JsonValue;
  readonly outputs: JsonValue;
  readonly codeVersion: string;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  readonly failedTaskId: string | null;
  readonly error: TaskErrorInfo | null;
  readonly cancelReason: string | null;
  /** The run stream's version: grows with every change (watchers compare it). */
  readonly revision: number;
  readonly tasks: readonly TaskView[];
}

export function runView(state: PipelineRunState, revision: number): RunView {
  const plan = state.plan!;
  const steps = new Map(plan.definition.steps.map((step) => [step.id, step]));
  return {
    runId: state.runId!,
    pipelineName: plan.pipelineName,
    pipelineVersion: plan.pipelineVersion,
    definitionHash: plan.definitionHash,
    status: state.status!,
    trigger: plan.trigger,
    params: plan.params,
    outputs: state.outputs,
    codeVersion: plan.codeVersion,
    createdAt: state.createdAt!,
    startedAt: state.startedAt,
    endedAt: state.endedAt,
    failedTaskId: state.failedTaskId,
    error: state.error,
    cancelReason: state.cancelReason,
    revision,
    tasks: orderedTasks(state).map((task) => ({
      taskId: task.id,
      stepKind: task.kind,
      status: task.status,
      dependsOn: steps.get(task.id)?.dependsOn ?? [],
      cached: task.cached,
      cachedFrom: task.cachedFrom,
      skipReason: task.skipReason,
      inputs: task.inputs,
      outputs: task.outputs,
      cacheKey: task.cacheKey,
      retryAt: task.retryAt,
      deadline: task.deadline,
      attempts: task.attempts.map((attempt) => {
        const from = attempt.startedAt ?? attempt.dispatchedAt;
        return {
          ...attempt,
          durationMs: from !== null && attempt.endedAt !== null ? Math.max(0, Date.parse(attempt.endedAt) - Date.parse(from)) : null,
        };
      }),
    })),
  };
}
