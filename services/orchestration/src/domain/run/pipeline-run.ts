// The pipeline-run aggregate: one stream per run (`pipeline_run-<runId>`) holds the plan it
// snapshotted at start, every scheduling decision and every task result. State is rebuilt by
// folding the events; decisions (pipeline-run.decide.ts) are pure functions of state and command.
//
// Events are stored as JSON: optional values are `null`, never `undefined`.
import type { JsonValue } from '../expressions/expression';
import type { PipelineDefinition, StepDefinition } from '../pipeline/pipeline-definition';
import type { StepKindName } from '../pipeline/step-kinds';

export type Json = { readonly [key: string]: JsonValue };

export type TriggerKind = 'manual' | 'schedule' | 'event';

export interface RunTriggerInfo {
  readonly kind: TriggerKind;
  /** Who started a manual run; the trigger's name otherwise. */
  readonly actor: string;
  /** The pipeline trigger (schedule or event) that fired; null for manual runs. */
  readonly triggerName: string | null;
  readonly eventType: string | null;
  /** CloudEvents id of the triggering event, or the schedule tick id. */
  readonly eventId: string | null;
}

export interface RunSettings {
  /** Added to a task's timeout to make the deadline of its result (network, queueing). */
  readonly resultGraceMs: number;
  /** The timeout of a step that declares none, so a lost task never hangs a run for ever. */
  readonly defaultTimeoutMs: number;
}

export interface TaskErrorInfo {
  readonly code: string;
  readonly message: string;
  readonly retryable: boolean;
  readonly logsUri: string;
}

export interface RunPlan {
  readonly pipelineName: string;
  readonly pipelineVersion: number;
  readonly definitionHash: string;
  readonly definition: PipelineDefinition;
  readonly params: Json;
  readonly trigger: RunTriggerInfo;
  /** `LOOPLINE_CODE_COMMIT` of the platform when the run was created; part of cache keys. */
  readonly codeVersion: string;
  readonly settings: RunSettings;
}

export type PipelineRunQueued = { readonly type: 'PipelineRunQueued'; readonly data: RunPlan & { readonly runId: string; readonly queuedAt: string } };
export type PipelineRunStarted = { readonly type: 'PipelineRunStarted'; readonly data: RunPlan & { readonly runId: string; readonly startedAt: string } };
export type TaskReady = {
  readonly type: 'TaskReady';
  readonly data: { readonly taskId: string; readonly inputs: Json; readonly cacheKey: string; readonly readyAt: string };
};
export type TaskDispatched = {
  readonly type: 'TaskDispatched';
  readonly data: {
    readonly taskId: string;
    readonly stepKind: StepKindName;
    readonly attempt: number;
    readonly idempotencyKey: string;
    readonly inputs: Json;
    readonly cacheKey: string | null;
    readonly timeoutMs: number;
    readonly deadline: string;
    readonly dispatchedAt: string;
  };
};
export type TaskReusedFromCache = {
  readonly type: 'TaskReusedFromCache';
  readonly data: {
    readonly taskId: string;
    readonly cacheKey: string;
    readonly inputs: Json;
    readonly outputs: Json;
    readonly sourceRunId: string;
    readonly sourceTaskId: string;
    readonly reusedAt: string;
  };
};
export type SkipReason = 'condition' | 'upstream_skipped' | 'upstream_failed';
export type TaskSkipped = { readonly type: 'TaskSkipped'; readonly data: { readonly taskId: string; readonly reason: SkipReason; readonly detail: string; readonly skippedAt: string } };
export type TaskSucceeded = {
  readonly type: 'TaskSucceeded';
  readonly data: {
    readonly taskId: string;
    readonly attempt: number;
    readonly idempotencyKey: string;
    readonly outputs: Json;
    readonly executor: string;
    readonly startedAt: string | null;
    readonly completedAt: string;
    readonly logsUri: string;
  };
};
export type TaskAttemptFailed = {
  readonly type: 'TaskAttemptFailed';
  readonly data: {
    readonly taskId: string;
    readonly attempt: number;
    /** Empty when the task failed before it was dispatched (a condition or input error). */
    readonly idempotencyKey: string;
    readonly error: TaskErrorInfo;
    readonly executor: string;
    readonly startedAt: string | null;
    readonly failedAt: string;
    /** When the next attempt is due; null when the task failed for good. */
    readonly retryAt: string | null;
    /** A retry after a timeout keeps the idempotency key: the first attempt's outcome is unknown. */
    readonly retryKeepsKey: boolean;
  };
};
export type PipelineRunSucceeded = {
  readonly type: 'PipelineRunSucceeded';
  readonly data: { readonly outputs: Json; readonly taskCount: number; readonly cachedTaskCount: number; readonly succeededAt: string };
};
export type PipelineRunFailed = { readonly type: 'PipelineRunFailed'; readonly data: { readonly failedTaskId: string; readonly error: TaskErrorInfo; readonly failedAt: string } };
export type PipelineRunCancelled = { readonly type: 'PipelineRunCancelled'; readonly data: { readonly actor: string; readonly reason: string; readonly cancelledAt: string } };

export type PipelineRunEvent =
  | PipelineRunQueued
  | PipelineRunStarted
  | TaskReady
  | TaskDispatched
  | TaskReusedFromCache
  | TaskSkipped
  | TaskSucceeded
  | TaskAttemptFailed
  | PipelineRunSucceeded
  | PipelineRunFailed
  | PipelineRunCancelled;

export const pipelineRunEventTypes: readonly PipelineRunEvent['type'][] = [
  'PipelineRunQueued',
  'PipelineRunStarted',
  'TaskReady',
  'TaskDispatched',
  'TaskReusedFromCache',
  'TaskSkipped',
  'TaskSucceeded',
  'TaskAttemptFailed',
  'PipelineRunSucceeded',
  'PipelineRunFailed',
  'PipelineRunCancelled',
];

// ---------------------------------------------------------------------------------------------
// State

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export type TaskStatus = 'pending' | 'ready' | 'running' | 'retry_wait' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';
export type AttemptStatus = 'running' | 'succeeded' | 'failed' | 'timed_out' | 'abandoned';

export interface AttemptRecord {
  readonly attempt: number;
  readonly idempotencyKey: string;
  readonly status: AttemptStatus;
  readonly dispatchedAt: string | null;
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  readonly error: TaskErrorInfo | null;
  readonly executor: string;
}

export interface TaskState {
  readonly id: string;
  readonly kind: StepKindName;
  readonly status: TaskStatus;
  /** The latest attempt number (0 before the first dispatch). */
  readonly attempt: number;
  /** How many different idempotency keys the task has used (a key per reported failure). */
  readonly keyGeneration: number;
  readonly idempotencyKey: string | null;
  readonly inputs: Json | null;
  readonly cacheKey: string | null;
  readonly deadline: string | null;
  readonly retryAt: string | null;
  readonly retryKeepsKey: boolean;
  readonly outputs: Json | null;
  readonly cached: boolean;
  readonly cachedFrom: { readonly runId: string; readonly taskId: string } | null;
  readonly skipReason: SkipReason | null;
  readonly completedAt: string | null;
  readonly attempts: readonly AttemptRecord[];
}

export interface PipelineRunState {
  readonly runId: string | null;
  readonly status: RunStatus | null;
  readonly plan: RunPlan | null;
  /** Task states by id; iterate in `plan.definition.steps` order. */
  readonly tasks: Readonly<Record<string, TaskState>>;
  readonly createdAt: string | null;
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  readonly outputs: Json | null;
  readonly failedTaskId: string | null;
  readonly error: TaskErrorInfo | null;
  readonly cancelReason: string | null;
}

export function initialState(): PipelineRunState {
  return { runId: null, status: null, plan: null, tasks: {}, createdAt: null, startedAt: null, endedAt: null, outputs: null, failedTaskId: null, error: null, cancelReason: null };
}

function pendingTask(step: StepDefinition): TaskState {
  return {
    id: step.id,
    kind: step.kind,
    status: 'pending',
    attempt: 0,
    keyGeneration: 0,
    idempotencyKey: null,
    inputs: null,
    cacheKey: null,
    deadline: null,
    retryAt: null,
    retryKeepsKey: false,
    outputs: null,
    cached: false,
    cachedFrom: null,
    skipReason: null,
    completedAt: null,
    attempts: [],
  };
}

function withTask(state: PipelineRunState, taskId: string, change: (task: TaskState) => TaskState): PipelineRunState {
  const task = state.tasks[taskId];
  if (task === undefined) return state;
  return { ...state, tasks: { ...state.tasks, [taskId]: change(task) } };
}

function updateLastAttempt(task: TaskState, change: (attempt: AttemptRecord) => AttemptRecord): readonly AttemptRecord[] {
  if (task.attempts.length === 0) return task.attempts;
  return [...task.attempts.slice(0, -1), change(task.attempts[task.attempts.length - 1]!)];
}

export function isTerminalTask(status: TaskStatus): boolean {
  return status === 'succeeded' || status === 'failed' || status === 'skipped' || status === 'cancelled';
}

export function isTerminalRun(status: RunStatus | null): boolean {
  return status === 'succeeded' || status === 'failed' || status === 'cancelled';
}

/** Marks every unfinished task cancelled (the run ended) and its running attempt abandoned. */
function endTasks(state: PipelineRunState, at: string): PipelineRunState['tasks'] {
  const tasks: Record<string, TaskState> = {};
  for (const [id, task] of Object.entries(state.tasks)) {
    tasks[id] = isTerminalTask(task.status)
      ? task
      : {
          ...task,
          status: 'cancelled',
          deadline: null,
          retryAt: null,
          attempts: task.status === 'running' ? updateLastAttempt(task, (attempt) => ({ ...attempt, status: 'abandoned', endedAt: at })) : task.attempts,
        };
  }
  return tasks;
}

export function evolve(state: PipelineRunState, event: PipelineRunEvent): PipelineRunState {
  switch (event.type) {
    case 'PipelineRunQueued': {
      const { runId, queuedAt, ...plan } = event.data;
      return {
        ...state,
        runId,
        status: 'queued',
        plan,
        tasks: Object.fromEntries(plan.definition.steps.map((step) => [step.id, pendingTask(step)])),
        createdAt: queuedAt,
      };
    }
    case 'PipelineRunStarted': {
      const { runId, startedAt, ...plan } = event.data;
      return {
        ...state,
        runId,
        status: 'running',
        plan,
        tasks: state.status === 'queued' ? state.tasks : Object.fromEntries(plan.definition.steps.map((step) => [step.id, pendingTask(step)])),
        createdAt: state.createdAt ?? startedAt,
        startedAt,
      };
    }
    case 'TaskReady':
      return withTask(state, event.data.taskId, (task) => ({ ...task, status: 'ready', inputs: event.data.inputs, cacheKey: event.data.cacheKey }));
    case 'TaskDispatched': {
      const { data } = event;
      return withTask(state, data.taskId, (task) => ({
        ...task,
        status: 'running',
        attempt: data.attempt,
        keyGeneration: data.idempotencyKey === task.idempotencyKey ? task.keyGeneration : task.keyGeneration + 1,
        idempotencyKey: data.idempotencyKey,
        inputs: data.inputs,
        cacheKey: data.cacheKey,
        deadline: data.deadline,
        retryAt: null,
        retryKeepsKey: false,
        attempts: [
          ...task.attempts,
          { attempt: data.attempt, idempotencyKey: data.idempotencyKey, status: 'running', dispatchedAt: data.dispatchedAt, startedAt: null, endedAt: null, error: null, executor: '' },
        ],
      }));
    }
    case 'TaskReusedFromCache': {
      const { data } = event;
      return withTask(state, data.taskId, (task) => ({
        ...task,
        status: 'succeeded',
        inputs: data.inputs,
        cacheKey: data.cacheKey,
        outputs: data.outputs,
        cached: true,
        cachedFrom: { runId: data.sourceRunId, taskId: data.sourceTaskId },
        completedAt: data.reusedAt,
      }));
    }
    case 'TaskSkipped':
      return withTask(state, event.data.taskId, (task) => ({ ...task, status: 'skipped', skipReason: event.data.reason, completedAt: event.data.skippedAt }));
    case 'TaskSucceeded': {
      const { data } = event;
      return withTask(state, data.taskId, (task) => ({
        ...task,
        status: 'succeeded',
        outputs: data.outputs,
        deadline: null,
        completedAt: data.completedAt,
        attempts: updateLastAttempt(task, (attempt) => ({ ...attempt, status: 'succeeded', startedAt: data.startedAt, endedAt: data.completedAt, executor: data.executor })),
      }));
    }
    case 'TaskAttemptFailed': {
      const { data } = event;
      return withTask(state, data.taskId, (task) => {
        const dispatched = task.status === 'running';
        const record: AttemptRecord = {
          attempt: data.attempt,
          idempotencyKey: data.idempotencyKey,
          status: data.error.code === 'DEADLINE_EXCEEDED' ? 'timed_out' : 'failed',
          dispatchedAt: null,
          startedAt: data.startedAt,
          endedAt: data.failedAt,
          error: data.error,
          executor: data.executor,
        };
        return {
          ...task,
          status: data.retryAt === null ? 'failed' : 'retry_wait',
          attempt: data.attempt,
          deadline: null,
          retryAt: data.retryAt,
          retryKeepsKey: data.retryKeepsKey,
          completedAt: data.retryAt === null ? data.failedAt : null,
          attempts: dispatched ? updateLastAttempt(task, (attempt) => ({ ...record, dispatchedAt: attempt.dispatchedAt })) : [...task.attempts, record],
        };
      });
    }
    case 'PipelineRunSucceeded':
      return { ...state, status: 'succeeded', outputs: event.data.outputs, endedAt: event.data.succeededAt };
    case 'PipelineRunFailed':
      return { ...state, status: 'failed', failedTaskId: event.data.failedTaskId, error: event.data.error, endedAt: event.data.failedAt, tasks: endTasks(state, event.data.failedAt) };
    case 'PipelineRunCancelled':
      return { ...state, status: 'cancelled', cancelReason: `${event.data.actor}: ${event.data.reason}`, endedAt: event.data.cancelledAt, tasks: endTasks(state, event.data.cancelledAt) };
    default: {
      const unreachable: never = event;
      throw new Error(`unknown pipeline run event ${JSON.stringify(unreachable)}`);
    }
  }
}

/** The tasks in plan order (a topological order of the DAG). */
export function orderedTasks(state: PipelineRunState): TaskState[] {
  return (state.plan?.definition.steps ?? []).map((step) => state.tasks[step.id]).filter((task): task is TaskState => task !== undefined);
}

/** When the run next needs a `Tick`: the earliest deadline or retry time; null when none. */
export function nextWakeup(state: PipelineRunState): string | null {
  if (state.status !== 'running') return null;
  let earliest: string | null = null;
  for (const task of Object.values(state.tasks)) {
    const due = task.status === 'running' ? task.deadline : task.status === 'retry_wait' ? task.retryAt : null;
    if (due !== null && (earliest === null || Date.parse(due) < Date.parse(earliest))) earliest = due;
  }
  return earliest;
}

/** Tasks whose cache must be looked up before the run can go on. */
export function tasksAwaitingCache(state: PipelineRunState): { readonly taskId: string; readonly cacheKey: string }[] {
  return orderedTasks(state)
    .filter((task) => task.status === 'ready' && task.cacheKey !== null)
    .map((task) => ({ taskId: task.id, cacheKey: task.cacheKey! }));
}
