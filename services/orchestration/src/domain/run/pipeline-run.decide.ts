// The decisions of a pipeline run, one function per command, plus `schedule`: which tasks are
// ready, which are skipped by their condition or an upstream skip, which retry and when, when a
// result is overdue, when the run succeeds or fails. Pure: time and the actor arrive in each
// command's metadata, cache hits in the command that resolves them (the application looks them
// up: a side effect, like every other I/O, stays outside).
import { IllegalStateError, NotFoundError, ValidationError } from '@loopline/errors';
import { evaluateCondition, ExpressionError, objectScope, parseExpression, type JsonValue } from '../expressions/expression';
import { hashJson } from '../pipeline/canonical';
import { compatibleTypes, literalType } from '../pipeline/parse-definition';
import type { StepDefinition } from '../pipeline/pipeline-definition';
import { stepKinds } from '../pipeline/step-kinds';
import { resolveTemplates } from '../pipeline/templates';
import {
  evolve,
  initialState,
  isTerminalRun,
  isTerminalTask,
  orderedTasks,
  type Json,
  type PipelineRunEvent,
  type PipelineRunState,
  type RunPlan,
  type TaskErrorInfo,
  type TaskState,
} from './pipeline-run';

/** Who and when: filled by the application layer from the request (or consumer) and its clock. */
export interface CommandMeta {
  readonly actor: string;
  /** ISO-8601 time at which the command was accepted. */
  readonly at: string;
}

export interface CacheHit {
  readonly outputs: Json;
  readonly sourceRunId: string;
  readonly sourceTaskId: string;
}

export type CreateRun = {
  readonly type: 'CreateRun';
  readonly data: { readonly runId: string; readonly plan: RunPlan; readonly queue: boolean };
  readonly metadata: CommandMeta;
};
export type StartQueuedRun = { readonly type: 'StartQueuedRun'; readonly data: Record<string, never>; readonly metadata: CommandMeta };
export type ResolveCache = {
  readonly type: 'ResolveCache';
  /** For each task awaiting its cache lookup: the hit, or null for a miss. */
  readonly data: { readonly hits: Readonly<Record<string, CacheHit | null>> };
  readonly metadata: CommandMeta;
};
export type RecordTaskResult = {
  readonly type: 'RecordTaskResult';
  readonly data: {
    readonly taskId: string;
    readonly attempt: number;
    readonly idempotencyKey: string;
    readonly executor: string;
    readonly startedAt: string | null;
    readonly endedAt: string;
    readonly outcome: { readonly status: 'completed'; readonly outputs: Json; readonly logsUri: string } | { readonly status: 'failed'; readonly error: TaskErrorInfo };
  };
  readonly metadata: CommandMeta;
};
export type Tick = { readonly type: 'Tick'; readonly data: Record<string, never>; readonly metadata: CommandMeta };
export type CancelRun = { readonly type: 'CancelRun'; readonly data: { readonly reason: string }; readonly metadata: CommandMeta };

export type PipelineRunCommand = CreateRun | StartQueuedRun | ResolveCache | RecordTaskResult | Tick | CancelRun;

/** The executor name recorded for failures orchestration decides itself (conditions, inputs, deadlines). */
export const orchestrationExecutor = 'orchestration';

const ms = (iso: string): number => Date.parse(iso);
const plus = (iso: string, delta: number): string => new Date(ms(iso) + delta).toISOString();

/** `runId:taskId:generation`: one key per effect (see RunTask.idempotency_key). */
export function idempotencyKeyOf(runId: string, taskId: string, generation: number): string {
  return `${runId}:${taskId}:${generation}`;
}

// ---------------------------------------------------------------------------------------------
// Commands

function createRun(command: CreateRun, state: PipelineRunState): PipelineRunEvent[] {
  // A deterministic run id (event triggers, schedules, request ids) makes a repeated start a no-op.
  if (state.status !== null) return [];
  const { runId, plan, queue } = command.data;
  if (queue) return [{ type: 'PipelineRunQueued', data: { runId, ...plan, queuedAt: command.metadata.at } }];
  const started: PipelineRunEvent = { type: 'PipelineRunStarted', data: { runId, ...plan, startedAt: command.metadata.at } };
  return withSchedule(state, [started], command.metadata.at);
}

function startQueuedRun(command: StartQueuedRun, state: PipelineRunState): PipelineRunEvent[] {
  if (state.status === null) throw new NotFoundError('no such run');
  if (state.status !== 'queued') return [];
  const { plan, runId } = state;
  const started: PipelineRunEvent = { type: 'PipelineRunStarted', data: { runId: runId!, ...plan!, startedAt: command.metadata.at } };
  return withSchedule(state, [started], command.metadata.at);
}

function resolveCache(command: ResolveCache, state: PipelineRunState): PipelineRunEvent[] {
  if (state.status !== 'running') return [];
  const at = command.metadata.at;
  const events: PipelineRunEvent[] = [];
  for (const task of orderedTasks(state)) {
    if (task.status !== 'ready' || !Object.prototype.hasOwnProperty.call(command.data.hits, task.id)) continue;
    const hit = command.data.hits[task.id];
    if (hit) {
      events.push({
        type: 'TaskReusedFromCache',
        data: { taskId: task.id, cacheKey: task.cacheKey!, inputs: task.inputs ?? {}, outputs: hit.outputs, sourceRunId: hit.sourceRunId, sourceTaskId: hit.sourceTaskId, reusedAt: at },
      });
    } else events.push(dispatch(state, task, task.inputs ?? {}, task.cacheKey, at));
  }
  return withSchedule(state, events, at);
}

function recordTaskResult(command: RecordTaskResult, state: PipelineRunState): PipelineRunEvent[] {
  const { data } = command;
  // Results for a run that ended, a task that is not waiting, or another effect (a superseded
  // key) are ignored: duplicates and stragglers are normal with at-least-once delivery.
  if (state.status !== 'running') return [];
  const task = state.tasks[data.taskId];
  if (task === undefined || task.status !== 'running' || task.idempotencyKey !== data.idempotencyKey) return [];
  const at = command.metadata.at;
  const step = stepOf(state, task.id);
  if (data.outcome.status === 'completed') {
    const missing = Object.keys(step.outputs).filter((name) => step.kind === 'command' && data.outcome.status === 'completed' && !Object.prototype.hasOwnProperty.call(data.outcome.outputs, name));
    if (missing.length > 0) {
      const error = { code: 'OUTPUTS_MISSING', message: `the command did not write its declared output(s) ${missing.join(', ')} to $LOOPLINE_OUTPUTS`, retryable: false, logsUri: '' };
      return withSchedule(state, failAttempt(state, task, error, data.executor, data.startedAt, data.endedAt, at), at);
    }
    const succeeded: PipelineRunEvent = {
      type: 'TaskSucceeded',
      data: {
        taskId: task.id,
        attempt: task.attempt,
        idempotencyKey: task.idempotencyKey,
        outputs: data.outcome.outputs,
        executor: data.executor,
        startedAt: data.startedAt,
        completedAt: data.endedAt,
        logsUri: data.outcome.logsUri,
      },
    };
    return withSchedule(state, [succeeded], at);
  }
  return withSchedule(state, failAttempt(state, task, data.outcome.error, data.executor, data.startedAt, data.endedAt, at), at);
}

function tick(command: Tick, state: PipelineRunState): PipelineRunEvent[] {
  if (state.status !== 'running') return [];
  const at = command.metadata.at;
  const events: PipelineRunEvent[] = [];
  let current = state;
  for (const task of orderedTasks(state)) {
    if (task.status !== 'running' || task.deadline === null || ms(task.deadline) > ms(at)) continue;
    const error: TaskErrorInfo = {
      code: 'DEADLINE_EXCEEDED',
      message: `no result for attempt ${task.attempt} by its deadline ${task.deadline}`,
      retryable: true,
      logsUri: '',
    };
    const decided = failAttempt(current, task, error, orchestrationExecutor, null, at, at, true);
    events.push(...decided);
    current = decided.reduce(evolve, current);
    if (current.status !== 'running') break;
  }
  return withSchedule(state, events, at);
}

function cancelRun(command: CancelRun, state: PipelineRunState): PipelineRunEvent[] {
  if (state.status === null) throw new NotFoundError('no such run');
  if (isTerminalRun(state.status)) throw new IllegalStateError(`run ${state.runId} has already ended (${state.status})`, { runId: state.runId, status: state.status });
  const reason = command.data.reason.trim() || 'cancelled';
  if (reason.length > 1_000) throw new ValidationError('a cancellation reason is at most 1000 characters', { field: 'reason' });
  return [{ type: 'PipelineRunCancelled', data: { actor: command.metadata.actor, reason, cancelledAt: command.metadata.at } }];
}

export function decide(command: PipelineRunCommand, state: PipelineRunState): PipelineRunEvent[] {
  switch (command.type) {
    case 'CreateRun':
      return createRun(command, state);
    case 'StartQueuedRun':
      return startQueuedRun(command, state);
    case 'ResolveCache':
      return resolveCache(command, state);
    case 'RecordTaskResult':
      return recordTaskResult(command, state);
    case 'Tick':
      return tick(command, state);
    case 'CancelRun':
      return cancelRun(command, state);
    default: {
      const unreachable: never = command;
      throw new Error(`unknown command ${JSON.stringify(unreachable)}`);
    }
  }
}

export const pipelineRunDecider = { decide, evolve, initialState };

// ---------------------------------------------------------------------------------------------
// Scheduling

function stepOf(state: PipelineRunState, taskId: string): StepDefinition {
  const step = state.plan?.definition.steps.find((candidate) => candidate.id === taskId);
  if (step === undefined) throw new Error(`task ${taskId} is not in the plan`);
  return step;
}

/** The events of a failed attempt: a retry (with its backoff), or the task's and the run's failure. */
function failAttempt(
  state: PipelineRunState,
  task: TaskState,
  error: TaskErrorInfo,
  executor: string,
  startedAt: string | null,
  failedAt: string,
  at: string,
  keepKey = false,
): PipelineRunEvent[] {
  const step = stepOf(state, task.id);
  const attempt = Math.max(task.attempt, 1);
  const retriesLeft = attempt <= step.retry.limit;
  const retryAt = error.retryable && retriesLeft ? plus(at, Math.min(step.retry.maxBackoffMs, step.retry.backoffMs * step.retry.factor ** (attempt - 1))) : null;
  const failed: PipelineRunEvent = {
    type: 'TaskAttemptFailed',
    data: { taskId: task.id, attempt, idempotencyKey: task.idempotencyKey ?? '', error, executor, startedAt, failedAt, retryAt, retryKeepsKey: retryAt !== null && keepKey },
  };
  if (retryAt !== null) return [failed];
  return [failed, ...failRun(state, task.id, error, at)];
}

/** Fail fast: descendants of the failed task are skipped, nothing else is dispatched, the run fails. */
function failRun(state: PipelineRunState, failedTaskId: string, error: TaskErrorInfo, at: string): PipelineRunEvent[] {
  const steps = state.plan?.definition.steps ?? [];
  const descendants = new Set<string>([failedTaskId]);
  for (const step of steps) if (step.dependsOn.some((dependency) => descendants.has(dependency))) descendants.add(step.id);
  const skipped: PipelineRunEvent[] = steps
    .filter((step) => step.id !== failedTaskId && descendants.has(step.id) && state.tasks[step.id]?.status === 'pending')
    .map((step) => ({ type: 'TaskSkipped', data: { taskId: step.id, reason: 'upstream_failed', detail: `upstream task ${failedTaskId} failed`, skippedAt: at } }));
  return [...skipped, { type: 'PipelineRunFailed', data: { failedTaskId, error, failedAt: at } }];
}

function dispatch(state: PipelineRunState, task: TaskState, inputs: Json, cacheKey: string | null, at: string): PipelineRunEvent {
  const step = stepOf(state, task.id);
  const settings = state.plan!.settings;
  const generation = task.status === 'retry_wait' && task.retryKeepsKey ? task.keyGeneration : task.keyGeneration + 1;
  const timeoutMs = step.timeoutMs ?? settings.defaultTimeoutMs;
  return {
    type: 'TaskDispatched',
    data: {
      taskId: task.id,
      stepKind: task.kind,
      attempt: task.attempt + 1,
      idempotencyKey: idempotencyKeyOf(state.runId!, task.id, Math.max(generation, 1)),
      inputs,
      cacheKey,
      timeoutMs,
      deadline: plus(at, timeoutMs + settings.resultGraceMs),
      dispatchedAt: at,
    },
  };
}

/** What references read: params, the outputs of succeeded upstream tasks, the run. */
function scopeOf(state: PipelineRunState) {
  const steps: Record<string, JsonValue> = {};
  for (const task of Object.values(state.tasks)) if (task.status === 'succeeded') steps[task.id] = { outputs: task.outputs ?? {} };
  const plan = state.plan!;
  return objectScope({
    params: plan.params,
    steps,
    run: { id: state.runId, pipelineName: plan.pipelineName, pipelineVersion: plan.pipelineVersion, triggerKind: plan.trigger.kind },
  });
}

/** Numbers that arrive as digit texts (proto3 JSON int64) become numbers; other mismatches are errors. */
function coerceInputs(step: StepDefinition, inputs: Json): Json {
  const spec = stepKinds[step.kind];
  const coerced: Record<string, JsonValue> = {};
  for (const [name, value] of Object.entries(inputs)) {
    const expected = spec.inputs[name]?.type ?? 'any';
    let current = value;
    if ((expected === 'integer' || expected === 'number') && typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)) current = Number(value);
    if (current !== null && !compatibleTypes(expected, literalType(current))) {
      throw new ExpressionError(`input "${name}" should be ${expected} but resolved to ${literalType(current)} ${JSON.stringify(current).slice(0, 80)}`);
    }
    if (current === null && spec.inputs[name]?.required) throw new ExpressionError(`required input "${name}" resolved to null`);
    coerced[name] = current;
  }
  return coerced;
}

/**
 * Appends to `events` what follows from the state they lead to: tasks become ready (or are
 * skipped), due retries are dispatched, and the run succeeds when every task is done. Loops
 * until nothing changes, since a skip or a failure can settle further tasks at once.
 */
function withSchedule(state: PipelineRunState, events: PipelineRunEvent[], at: string): PipelineRunEvent[] {
  let current = events.reduce(evolve, state);
  const all = [...events];
  for (let round = 0; round < 10_000; round += 1) {
    const next = scheduleOnce(current, at);
    if (next.length === 0) break;
    all.push(...next);
    current = next.reduce(evolve, current);
  }
  return all;
}

function scheduleOnce(state: PipelineRunState, at: string): PipelineRunEvent[] {
  if (state.status !== 'running' || state.plan === null) return [];
  const tasks = orderedTasks(state);
  for (const task of tasks) {
    const step = stepOf(state, task.id);
    if (task.status === 'retry_wait' && task.retryAt !== null && ms(task.retryAt) <= ms(at)) {
      return [dispatch(state, task, task.inputs ?? {}, task.cacheKey, at)];
    }
    if (task.status !== 'pending') continue;
    const upstream = step.dependsOn.map((id) => state.tasks[id]!);
    if (upstream.some((dependency) => !isTerminalTask(dependency.status))) continue;
    const failed = upstream.find((dependency) => dependency.status === 'failed' || dependency.status === 'cancelled');
    if (failed) return [{ type: 'TaskSkipped', data: { taskId: task.id, reason: 'upstream_failed', detail: `upstream task ${failed.id} did not succeed`, skippedAt: at } }];
    const skipped = upstream.find((dependency) => dependency.status === 'skipped');
    if (skipped) return [{ type: 'TaskSkipped', data: { taskId: task.id, reason: 'upstream_skipped', detail: `upstream task ${skipped.id} was skipped`, skippedAt: at } }];

    const scope = scopeOf(state);
    if (step.when !== null) {
      let proceed: boolean;
      try {
        proceed = evaluateCondition(parseExpression(step.when), scope);
      } catch (error) {
        const info = { code: 'CONDITION_ERROR', message: `when: ${step.when}: ${messageOf(error)}`, retryable: false, logsUri: '' };
        return failAttempt(state, task, info, orchestrationExecutor, null, at, at);
      }
      if (!proceed) return [{ type: 'TaskSkipped', data: { taskId: task.id, reason: 'condition', detail: `when: ${step.when}`, skippedAt: at } }];
    }
    let inputs: Json;
    try {
      inputs = coerceInputs(step, resolveTemplates(step.inputs as JsonValue, scope) as Json);
    } catch (error) {
      const info = { code: 'INPUT_ERROR', message: messageOf(error), retryable: false, logsUri: '' };
      return failAttempt(state, task, info, orchestrationExecutor, null, at, at);
    }
    if (!step.cache) return [dispatch(state, task, inputs, null, at)];
    const cacheKey = cacheKeyOf(step, inputs, state.plan.definition.codeVersion, state.plan.codeVersion);
    return [{ type: 'TaskReady', data: { taskId: task.id, inputs, cacheKey, readyAt: at } }];
  }
  if (tasks.every((task) => isTerminalTask(task.status))) {
    const failedTask = tasks.find((task) => task.status === 'failed');
    if (failedTask) return [];
    return [
      {
        type: 'PipelineRunSucceeded',
        data: {
          outputs: runOutputs(state),
          taskCount: tasks.filter((task) => task.status === 'succeeded').length,
          cachedTaskCount: tasks.filter((task) => task.cached).length,
          succeededAt: at,
        },
      },
    ];
  }
  return [];
}

/**
 * A task's cache key: its kind, its resolved inputs (for data-reading steps these include the
 * content-addressed ids of the data versions), and the code that runs it — the step's declared
 * version, else the pipeline's, plus the platform commit. A new data version changes an input,
 * so it changes the key (what KFP's cache misses, kfp#4857).
 */
export function cacheKeyOf(step: StepDefinition, inputs: Json, pipelineCodeVersion: string | null, platformCodeVersion: string): string {
  return hashJson({ kind: step.kind, inputs, codeVersion: step.codeVersion ?? pipelineCodeVersion ?? '', platform: platformCodeVersion });
}

function runOutputs(state: PipelineRunState): Json {
  const scope = scopeOf(state);
  const outputs: Record<string, JsonValue> = {};
  for (const [name, value] of Object.entries(state.plan!.definition.outputs)) {
    try {
      outputs[name] = resolveTemplates(value, scope);
    } catch {
      // An output reading a skipped step has no value.
      outputs[name] = null;
    }
  }
  return outputs;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
