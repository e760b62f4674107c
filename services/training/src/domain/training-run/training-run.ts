// The training-run aggregate (one stream per run, `training_run-<id>`): an MLflow-like tracked
// run — params written once, metrics appended with step and time, tags, artifacts — which a
// training job fills in as it trains, evaluates and registers a model. Events, state and evolve;
// the commands are in training-run.decide.ts. Every optional value is `null`, never `undefined`,
// so an event read back equals the one decided.

export type RunStatus = 'RUNNING' | 'FINISHED' | 'FAILED' | 'KILLED';

export interface TrainerRef {
  /** `builtin/<name>` or `external/<name>`; `client` for runs a client tracks itself. */
  readonly name: string;
  readonly version: string;
}

export interface FeatureViewRef {
  readonly viewName: string;
  readonly viewVersion: number;
}

/** The data a run trains on, precise enough to rebuild it. */
export interface TrainingData {
  /** SHA-256 of the training-set Parquet (its id in the feature store); empty when none. */
  readonly trainingSetId: string;
  readonly datasetVersionIds: readonly string[];
  readonly featureViews: readonly FeatureViewRef[];
  readonly labelColumn: string;
  readonly featureColumns: readonly string[];
  readonly rowCount: number;
}

/** The pipeline task a run executes, when orchestration asked for it. */
export interface TaskRef {
  readonly pipelineRunId: string;
  readonly taskId: string;
  readonly attempt: number;
  readonly idempotencyKey: string;
  /** `train` or `tune`. */
  readonly stepKind: 'train' | 'tune';
  readonly pipelineName: string;
}

/** What a managed run (a training or tuning job) was asked to do, so that it can be resumed. */
export interface JobSpec {
  readonly kind: 'train' | 'tune' | 'trial';
  /** The request as accepted (JSON), replayed as-is when the run is resumed after a crash. */
  readonly request: Readonly<Record<string, unknown>>;
}

export interface Metric {
  readonly key: string;
  readonly value: number;
  readonly step: number;
  /** ISO-8601. */
  readonly timestamp: string;
}

export interface Artifact {
  /** A file name, e.g. `model.onnx`, `reference_profile.json`. */
  readonly name: string;
  readonly uri: string;
  readonly sha256: string;
  readonly sizeBytes: number;
  readonly contentType: string;
}

export interface RegisteredVersion {
  readonly modelName: string;
  readonly version: number;
}

export type TrainingRunStarted = {
  readonly type: 'TrainingRunStarted';
  readonly data: {
    readonly runId: string;
    readonly runName: string;
    readonly experimentName: string;
    /** The registered model the run trains a candidate for; empty for tracking-only runs. */
    readonly modelName: string;
    readonly trainer: TrainerRef;
    readonly params: Readonly<Record<string, string>>;
    readonly trainingData: TrainingData;
    readonly seed: number | null;
    readonly codeCommit: string;
    /** SHA-256 of the trainer environment's lockfile (package-lock.json, requirements.txt). */
    readonly environmentLockSha256: string;
    readonly parentRunId: string | null;
    readonly task: TaskRef | null;
    readonly job: JobSpec | null;
    readonly tags: Readonly<Record<string, string>>;
    readonly actor: string;
    readonly startedAt: string;
  };
};

export type TrainingRunParamsLogged = {
  readonly type: 'TrainingRunParamsLogged';
  readonly data: { readonly runId: string; readonly params: Readonly<Record<string, string>> };
};

export type TrainingRunMetricsLogged = {
  readonly type: 'TrainingRunMetricsLogged';
  readonly data: { readonly runId: string; readonly metrics: readonly Metric[] };
};

export type TrainingRunTagSet = {
  readonly type: 'TrainingRunTagSet';
  readonly data: { readonly runId: string; readonly key: string; readonly value: string };
};

export type TrainingRunTagDeleted = {
  readonly type: 'TrainingRunTagDeleted';
  readonly data: { readonly runId: string; readonly key: string };
};

export type TrainingRunArtifactLogged = {
  readonly type: 'TrainingRunArtifactLogged';
  readonly data: { readonly runId: string; readonly artifact: Artifact };
};

export type TrainingRunCompleted = {
  readonly type: 'TrainingRunCompleted';
  readonly data: {
    readonly runId: string;
    /** FINISHED, or KILLED when a client ends its run so. */
    readonly status: 'FINISHED' | 'KILLED';
    /** The evaluation metrics the run reports (the last value of each). */
    readonly metrics: Readonly<Record<string, number>>;
    /** The ONNX model; null for runs that produced none (tracking-only, tuning parents). */
    readonly model: Artifact | null;
    readonly referenceProfile: Artifact | null;
    readonly registered: RegisteredVersion | null;
    /** What the run hands back to the pipeline task (TaskCompleted outputs). */
    readonly outputs: Readonly<Record<string, unknown>>;
    readonly completedAt: string;
  };
};

export type TrainingRunFailed = {
  readonly type: 'TrainingRunFailed';
  readonly data: {
    readonly runId: string;
    /** UPPER_SNAKE_CASE, e.g. `TRAINER_EXITED`, `TRAINING_SET_NOT_FOUND`, `INVALID_PARAMS`. */
    readonly errorCode: string;
    readonly errorMessage: string;
    readonly retryable: boolean;
    readonly logsUri: string;
    readonly failedAt: string;
  };
};

/** A duplicate RunTask for a finished task was answered again with the recorded result. */
export type TrainingTaskResultResent = {
  readonly type: 'TrainingTaskResultResent';
  readonly data: { readonly runId: string; readonly idempotencyKey: string; readonly resentAt: string };
};

export type TrainingRunEvent =
  | TrainingRunStarted
  | TrainingRunParamsLogged
  | TrainingRunMetricsLogged
  | TrainingRunTagSet
  | TrainingRunTagDeleted
  | TrainingRunArtifactLogged
  | TrainingRunCompleted
  | TrainingRunFailed
  | TrainingTaskResultResent;

export const trainingRunEventTypes = [
  'TrainingRunStarted',
  'TrainingRunParamsLogged',
  'TrainingRunMetricsLogged',
  'TrainingRunTagSet',
  'TrainingRunTagDeleted',
  'TrainingRunArtifactLogged',
  'TrainingRunCompleted',
  'TrainingRunFailed',
  'TrainingTaskResultResent',
] as const satisfies readonly TrainingRunEvent['type'][];

export interface TrainingRun {
  readonly status: RunStatus;
  readonly runId: string;
  readonly runName: string;
  readonly experimentName: string;
  readonly modelName: string;
  readonly trainer: TrainerRef;
  readonly params: Readonly<Record<string, string>>;
  /** Full history, oldest first. */
  readonly metrics: readonly Metric[];
  readonly tags: Readonly<Record<string, string>>;
  readonly artifacts: readonly Artifact[];
  readonly trainingData: TrainingData;
  readonly seed: number | null;
  readonly codeCommit: string;
  readonly environmentLockSha256: string;
  readonly parentRunId: string | null;
  readonly task: TaskRef | null;
  readonly job: JobSpec | null;
  readonly actor: string;
  readonly startedAt: string;
  readonly endedAt: string | null;
  readonly model: Artifact | null;
  readonly referenceProfile: Artifact | null;
  readonly registered: RegisteredVersion | null;
  readonly outputs: Readonly<Record<string, unknown>>;
  readonly error: { readonly code: string; readonly message: string; readonly retryable: boolean; readonly logsUri: string } | null;
}

export type TrainingRunState = { readonly status: 'absent' } | TrainingRun;

export const initialState = (): TrainingRunState => ({ status: 'absent' });

export function evolve(state: TrainingRunState, event: TrainingRunEvent): TrainingRunState {
  if (event.type === 'TrainingRunStarted') {
    const { data } = event;
    return {
      status: 'RUNNING',
      runId: data.runId,
      runName: data.runName,
      experimentName: data.experimentName,
      modelName: data.modelName,
      trainer: data.trainer,
      params: data.params,
      metrics: [],
      tags: data.tags,
      artifacts: [],
      trainingData: data.trainingData,
      seed: data.seed,
      codeCommit: data.codeCommit,
      environmentLockSha256: data.environmentLockSha256,
      parentRunId: data.parentRunId,
      task: data.task,
      job: data.job,
      actor: data.actor,
      startedAt: data.startedAt,
      endedAt: null,
      model: null,
      referenceProfile: null,
      registered: null,
      outputs: {},
      error: null,
    };
  }
  if (state.status === 'absent') return state;
  switch (event.type) {
    case 'TrainingRunParamsLogged':
      return { ...state, params: { ...state.params, ...event.data.params } };
    case 'TrainingRunMetricsLogged':
      return { ...state, metrics: [...state.metrics, ...event.data.metrics] };
    case 'TrainingRunTagSet':
      return { ...state, tags: { ...state.tags, [event.data.key]: event.data.value } };
    case 'TrainingRunTagDeleted': {
      const tags = { ...state.tags };
      delete tags[event.data.key];
      return { ...state, tags };
    }
    case 'TrainingRunArtifactLogged':
      return { ...state, artifacts: [...state.artifacts.filter((artifact) => artifact.name !== event.data.artifact.name), event.data.artifact] };
    case 'TrainingRunCompleted':
      return {
        ...state,
        status: event.data.status,
        endedAt: event.data.completedAt,
        model: event.data.model,
        referenceProfile: event.data.referenceProfile,
        registered: event.data.registered,
        outputs: event.data.outputs,
      };
    case 'TrainingRunFailed':
      return {
        ...state,
        status: 'FAILED',
        endedAt: event.data.failedAt,
        error: { code: event.data.errorCode, message: event.data.errorMessage, retryable: event.data.retryable, logsUri: event.data.logsUri },
      };
    case 'TrainingTaskResultResent':
      return state;
    default: {
      const unreachable: never = event;
      throw new Error(`unknown event ${JSON.stringify(unreachable)}`);
    }
  }
}

/** The last value of each metric (the highest step, then the latest logged). */
export function latestMetrics(run: Pick<TrainingRun, 'metrics'>): Record<string, number> {
  const latest = new Map<string, Metric>();
  for (const metric of run.metrics) {
    const current = latest.get(metric.key);
    if (!current || metric.step >= current.step) latest.set(metric.key, metric);
  }
  return Object.fromEntries([...latest].map(([key, metric]) => [key, metric.value]));
}
