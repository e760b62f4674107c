// The commands of the training-run aggregate, one function each, and the decider. Who and when
// arrive in each command; nothing here reads a clock or makes an id.
import { IllegalStateError, NotFoundError, ValidationError } from '@loopline/errors';
import {
  evolve,
  initialState,
  latestMetrics,
  type Artifact,
  type JobSpec,
  type Metric,
  type TaskRef,
  type TrainerRef,
  type TrainingData,
  type TrainingRun,
  type TrainingRunEvent,
  type TrainingRunState,
} from './training-run';

export interface CommandMeta {
  readonly actor: string;
  /** ISO-8601 time at which the command was accepted. */
  readonly at: string;
}

export type StartTrainingRun = {
  readonly type: 'StartTrainingRun';
  readonly data: {
    readonly runId: string;
    readonly runName: string;
    readonly experimentName: string;
    readonly modelName: string;
    readonly trainer: TrainerRef;
    readonly params: Readonly<Record<string, string>>;
    readonly trainingData: TrainingData;
    readonly seed: number | null;
    readonly codeCommit: string;
    readonly environmentLockSha256: string;
    readonly parentRunId: string | null;
    readonly task: TaskRef | null;
    readonly job: JobSpec | null;
    readonly tags: Readonly<Record<string, string>>;
  };
  readonly metadata: CommandMeta;
};

export type LogParams = { readonly type: 'LogParams'; readonly data: { readonly params: Readonly<Record<string, string>> }; readonly metadata: CommandMeta };
export type LogMetrics = { readonly type: 'LogMetrics'; readonly data: { readonly metrics: readonly Metric[] }; readonly metadata: CommandMeta };
export type SetTag = { readonly type: 'SetTag'; readonly data: { readonly key: string; readonly value: string }; readonly metadata: CommandMeta };
export type DeleteTag = { readonly type: 'DeleteTag'; readonly data: { readonly key: string }; readonly metadata: CommandMeta };
export type LogArtifact = { readonly type: 'LogArtifact'; readonly data: { readonly artifact: Artifact }; readonly metadata: CommandMeta };
export type CompleteRun = {
  readonly type: 'CompleteRun';
  readonly data: {
    readonly status: 'FINISHED' | 'KILLED';
    readonly model: Artifact | null;
    readonly referenceProfile: Artifact | null;
    readonly registered: { readonly modelName: string; readonly version: number } | null;
    readonly outputs: Readonly<Record<string, unknown>>;
  };
  readonly metadata: CommandMeta;
};
export type FailRun = {
  readonly type: 'FailRun';
  readonly data: { readonly errorCode: string; readonly errorMessage: string; readonly retryable: boolean; readonly logsUri: string };
  readonly metadata: CommandMeta;
};
export type ResendTaskResult = { readonly type: 'ResendTaskResult'; readonly data: { readonly idempotencyKey: string }; readonly metadata: CommandMeta };

export type TrainingRunCommand = StartTrainingRun | LogParams | LogMetrics | SetTag | DeleteTag | LogArtifact | CompleteRun | FailRun | ResendTaskResult;

export const limits = { keyLength: 250, valueLength: 6_000, paramsPerCall: 100, metricsPerCall: 1_000 } as const;
const keyPattern = /^[A-Za-z0-9_.\-/ ]+$/;
export const artifactNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function assertKey(key: string, what: string): void {
  if (key.length === 0 || key.length > limits.keyLength || !keyPattern.test(key)) {
    throw new ValidationError(`${what} key ${JSON.stringify(key)} must be 1–${limits.keyLength} letters, digits, spaces or _ . - /`, { field: what, key });
  }
}

function running(state: TrainingRunState, runId: string): TrainingRun {
  if (state.status === 'absent') throw new NotFoundError(`no training run "${runId}"`, { runId });
  if (state.status !== 'RUNNING') throw new IllegalStateError(`training run "${state.runId}" is ${state.status}: it takes no more changes`, { runId: state.runId, status: state.status });
  return state;
}

function existing(state: TrainingRunState, runId: string): TrainingRun {
  if (state.status === 'absent') throw new NotFoundError(`no training run "${runId}"`, { runId });
  return state;
}

export function startTrainingRun(command: StartTrainingRun, state: TrainingRunState): TrainingRunEvent[] {
  // Starting the same run again (a redelivered command) records nothing.
  if (state.status !== 'absent') return [];
  const { data, metadata } = command;
  for (const [key, value] of Object.entries(data.params)) {
    assertKey(key, 'param');
    if (value.length > limits.valueLength) throw new ValidationError(`param "${key}" is longer than ${limits.valueLength} characters`, { field: 'params', key });
  }
  for (const key of Object.keys(data.tags)) assertKey(key, 'tag');
  if (data.experimentName.trim() === '') throw new ValidationError('a run belongs to an experiment: experimentName is empty', { field: 'experimentName' });
  return [{ type: 'TrainingRunStarted', data: { ...data, actor: metadata.actor, startedAt: metadata.at } }];
}

/** Params are immutable (MLflow): the same value again is a no-op, a different one is refused. */
export function logParams(command: LogParams, state: TrainingRunState, runId: string): TrainingRunEvent[] {
  const run = running(state, runId);
  const entries = Object.entries(command.data.params);
  if (entries.length > limits.paramsPerCall) throw new ValidationError(`at most ${limits.paramsPerCall} params per call`, { field: 'params' });
  const fresh: Record<string, string> = {};
  for (const [key, value] of entries) {
    assertKey(key, 'param');
    if (value.length > limits.valueLength) throw new ValidationError(`param "${key}" is longer than ${limits.valueLength} characters`, { field: 'params', key });
    const logged = run.params[key];
    if (logged === undefined) fresh[key] = value;
    else if (logged !== value) {
      throw new IllegalStateError(`param "${key}" of run "${run.runId}" is already ${JSON.stringify(logged)}; params cannot change`, { runId: run.runId, key, logged, attempted: value });
    }
  }
  return Object.keys(fresh).length === 0 ? [] : [{ type: 'TrainingRunParamsLogged', data: { runId: run.runId, params: fresh } }];
}

/** Metrics are appended (history kept), each with its step and time. */
export function logMetrics(command: LogMetrics, state: TrainingRunState, runId: string): TrainingRunEvent[] {
  const run = running(state, runId);
  const { metrics } = command.data;
  if (metrics.length === 0) return [];
  if (metrics.length > limits.metricsPerCall) throw new ValidationError(`at most ${limits.metricsPerCall} metrics per call`, { field: 'metrics' });
  for (const metric of metrics) {
    assertKey(metric.key, 'metric');
    if (typeof metric.value !== 'number' || Number.isNaN(metric.value)) throw new ValidationError(`metric "${metric.key}" must be a number`, { field: 'metrics', key: metric.key });
    if (!Number.isInteger(metric.step) || metric.step < 0) throw new ValidationError(`metric "${metric.key}" step must be a non-negative integer`, { field: 'metrics', key: metric.key });
  }
  return [{ type: 'TrainingRunMetricsLogged', data: { runId: run.runId, metrics } }];
}

/** Tags stay mutable after the run ended (MLflow): notes and labels are added later. */
export function setTag(command: SetTag, state: TrainingRunState, runId: string): TrainingRunEvent[] {
  const run = existing(state, runId);
  assertKey(command.data.key, 'tag');
  if (command.data.value.length > limits.valueLength) throw new ValidationError(`tag "${command.data.key}" is longer than ${limits.valueLength} characters`, { field: 'value' });
  if (run.tags[command.data.key] === command.data.value) return [];
  return [{ type: 'TrainingRunTagSet', data: { runId: run.runId, key: command.data.key, value: command.data.value } }];
}

export function deleteTag(command: DeleteTag, state: TrainingRunState, runId: string): TrainingRunEvent[] {
  const run = existing(state, runId);
  if (run.tags[command.data.key] === undefined) throw new NotFoundError(`run "${run.runId}" has no tag "${command.data.key}"`, { runId: run.runId, key: command.data.key });
  return [{ type: 'TrainingRunTagDeleted', data: { runId: run.runId, key: command.data.key } }];
}

export function logArtifact(command: LogArtifact, state: TrainingRunState, runId: string): TrainingRunEvent[] {
  const run = running(state, runId);
  const { artifact } = command.data;
  if (!artifactNamePattern.test(artifact.name)) throw new ValidationError(`artifact name ${JSON.stringify(artifact.name)} must match ${artifactNamePattern}`, { field: 'name' });
  const logged = run.artifacts.find((candidate) => candidate.name === artifact.name);
  if (logged?.sha256 === artifact.sha256) return [];
  return [{ type: 'TrainingRunArtifactLogged', data: { runId: run.runId, artifact } }];
}

export function completeRun(command: CompleteRun, state: TrainingRunState, runId: string): TrainingRunEvent[] {
  const run = existing(state, runId);
  if (run.status === command.data.status) return []; // completed already: a retried completion
  running(state, runId);
  const metrics = latestMetrics(run);
  return [{ type: 'TrainingRunCompleted', data: { runId: run.runId, status: command.data.status, metrics, model: command.data.model, referenceProfile: command.data.referenceProfile, registered: command.data.registered, outputs: command.data.outputs, completedAt: command.metadata.at } }];
}

export function failRun(command: FailRun, state: TrainingRunState, runId: string): TrainingRunEvent[] {
  const run = existing(state, runId);
  if (run.status === 'FAILED') return [];
  running(state, runId);
  return [{ type: 'TrainingRunFailed', data: { runId: run.runId, ...command.data, failedAt: command.metadata.at } }];
}

export function resendTaskResult(command: ResendTaskResult, state: TrainingRunState, runId: string): TrainingRunEvent[] {
  const run = existing(state, runId);
  if (run.status === 'RUNNING' || run.task === null) return [];
  return [{ type: 'TrainingTaskResultResent', data: { runId: run.runId, idempotencyKey: command.data.idempotencyKey, resentAt: command.metadata.at } }];
}

/** The decider for one run's stream; `runId` names the stream in errors before it exists. */
export function trainingRunDecider(runId: string) {
  return {
    initialState,
    evolve,
    decide(command: TrainingRunCommand, state: TrainingRunState): TrainingRunEvent[] {
      switch (command.type) {
        case 'StartTrainingRun':
          return startTrainingRun(command, state);
        case 'LogParams':
          return logParams(command, state, runId);
        case 'LogMetrics':
          return logMetrics(command, state, runId);
        case 'SetTag':
          return setTag(command, state, runId);
        case 'DeleteTag':
          return deleteTag(command, state, runId);
        case 'LogArtifact':
          return logArtifact(command, state, runId);
        case 'CompleteRun':
          return completeRun(command, state, runId);
        case 'FailRun':
          return failRun(command, state, runId);
        case 'ResendTaskResult':
          return resendTaskResult(command, state, runId);
        default: {
          const unreachable: never = command;
          throw new Error(`unknown command ${JSON.stringify(unreachable)}`);
        }
      }
    },
  };
}
