// The step kinds a pipeline can use: who executes each, which inputs it takes (with their types)
// and which outputs it promises. This table is the contract between orchestration and the
// executing services (docs/adr/0008-orchestration.md, "Executors"): validation checks inputs and
// references against it, lineage reads its artifact markers, caching its defaults.

export type ValueType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'list' | 'any';
export const valueTypes: readonly ValueType[] = ['string', 'number', 'integer', 'boolean', 'object', 'list', 'any'];

/** Kinds of artifact lineage tracks; an input or output marked with one names such an artifact. */
export type ArtifactKind = 'dataset_version' | 'training_set' | 'model_version' | 'training_run' | 'materialization' | 'feature_view' | 'artifact';

export interface FieldSpec {
  readonly type: ValueType;
  readonly required?: boolean;
  readonly artifact?: ArtifactKind;
  readonly description: string;
}

export type ExecutorName = 'ingestion' | 'feature-store' | 'training' | 'orchestration';

export interface StepKindSpec {
  /** The service whose task consumer executes the kind. */
  readonly executor: ExecutorName;
  readonly description: string;
  readonly inputs: Readonly<Record<string, FieldSpec>>;
  /** Whether inputs beyond the listed ones are accepted (passed to the executor untouched). */
  readonly openInputs: boolean;
  readonly outputs: Readonly<Record<string, FieldSpec>>;
  /** Whether a step of this kind reuses an identical earlier result unless it says `cache: false`. */
  readonly cacheByDefault: boolean;
}

export type StepKindName =
  | 'ingest'
  | 'validate'
  | 'materialize'
  | 'build_training_set'
  | 'train'
  | 'tune'
  | 'evaluate'
  | 'register'
  | 'promote'
  | 'deploy'
  | 'command';

const modelVersionOutputs = {
  modelName: { type: 'string', description: 'registered model name' },
  version: { type: 'integer', description: 'model version number' },
  modelVersion: { type: 'string', artifact: 'model_version', description: '`name:version`' },
} as const satisfies Record<string, FieldSpec>;

export const stepKinds: Readonly<Record<StepKindName, StepKindSpec>> = {
  ingest: {
    executor: 'ingestion',
    description: 'Ingest a new dataset version of a data source (content-addressed: unchanged data gives the same version id).',
    inputs: {
      sourceName: { type: 'string', required: true, description: 'the data source' },
      uri: { type: 'string', description: 'where to read the data from, when the source does not say' },
      format: { type: 'string', description: 'csv, jsonl or parquet, when the file name does not say' },
    },
    openInputs: false,
    outputs: {
      datasetVersionId: { type: 'string', artifact: 'dataset_version', description: 'the (content-addressed) dataset version' },
      rowCount: { type: 'integer', description: 'rows in the version' },
      created: { type: 'boolean', description: 'false when the data was identical to an existing version' },
    },
    // Ingest is what looks at the world: it always runs, and its content-addressed output is
    // what makes every downstream cache key change exactly when the data changes.
    cacheByDefault: false,
  },
  validate: {
    executor: 'ingestion',
    description: "Validate a dataset version against its source's schema and the previous version.",
    inputs: {
      datasetVersionId: { type: 'string', required: true, artifact: 'dataset_version', description: 'the dataset version' },
      failOnWarnings: { type: 'boolean', description: 'fail on warnings too, not only on errors' },
    },
    openInputs: false,
    outputs: {
      passed: { type: 'boolean', description: 'whether the version passed' },
      datasetVersionId: { type: 'string', artifact: 'dataset_version', description: 'the validated version' },
      report: { type: 'object', description: 'the validation report' },
    },
    cacheByDefault: true,
  },
  materialize: {
    executor: 'feature-store',
    description: 'Materialize a feature view into the offline and online stores.',
    inputs: {
      view: { type: 'string', required: true, artifact: 'feature_view', description: 'feature view name' },
      version: { type: 'integer', description: 'feature view version; latest when absent' },
      datasetVersionId: { type: 'string', artifact: 'dataset_version', description: "the source's dataset version to materialize" },
    },
    openInputs: false,
    outputs: {
      materializationId: { type: 'string', artifact: 'materialization', description: 'the materialization' },
      viewVersion: { type: 'integer', description: 'feature view version materialized' },
      rowCount: { type: 'integer', description: 'rows written' },
    },
    // Without a pinned `datasetVersionId` it reads the source's latest version, which the inputs do
    // not name; and materializing again is idempotent and cheap. Runs every time.
    cacheByDefault: false,
  },
  build_training_set: {
    executor: 'feature-store',
    description: 'Build a point-in-time-correct training set from entity rows and features.',
    inputs: {
      entities: { type: 'object', required: true, description: '`{source, versionId, eventTimeColumn?}`: the entity/label rows' },
      featureService: { type: 'string', description: 'a feature service name' },
      features: { type: 'list', description: 'or a list of `view:feature` references' },
      start: { type: 'string', description: 'first event time (ISO-8601)' },
      end: { type: 'string', description: 'last event time (ISO-8601)' },
      datasetVersions: { type: 'object', description: 'source name → dataset version id to read, pinning the data' },
    },
    openInputs: false,
    outputs: {
      trainingSetId: { type: 'string', artifact: 'training_set', description: 'the (content-addressed) training set' },
      rowCount: { type: 'integer', description: 'rows in the set' },
    },
    // `versionId: latest | all` reads whatever the source holds when the task runs, which the inputs
    // do not name; the content-addressed id keeps downstream `train` caching exact anyway.
    cacheByDefault: false,
  },
  train: {
    executor: 'training',
    description: 'Train a model on a training set and register it.',
    inputs: {
      trainingSetId: { type: 'string', required: true, artifact: 'training_set', description: 'the training set' },
      trainer: { type: 'string', required: true, description: 'built-in trainer name or external trainer' },
      params: { type: 'object', description: "the trainer's hyper-parameters" },
      split: { type: 'object', description: '`{kind: random|time, ...}` holdout split' },
      seed: { type: 'integer', description: 'random seed' },
      labelColumn: { type: 'string', description: 'the label column' },
      modelName: { type: 'string', description: 'registered model to add the version to' },
      experiment: { type: 'string', description: 'experiment to track the run in' },
    },
    openInputs: true,
    outputs: {
      trainingRunId: { type: 'string', artifact: 'training_run', description: 'the tracked training run' },
      metrics: { type: 'object', description: 'holdout metrics' },
      modelSha256: { type: 'string', description: 'SHA-256 of the ONNX file' },
      modelUri: { type: 'string', description: 'where the ONNX file is' },
      ...modelVersionOutputs,
    },
    cacheByDefault: true,
  },
  tune: {
    executor: 'training',
    description: 'Search hyper-parameters (grid or random), train the best candidate and register it.',
    inputs: {
      trainingSetId: { type: 'string', required: true, artifact: 'training_set', description: 'the training set' },
      trainer: { type: 'string', required: true, description: 'trainer name' },
      space: { type: 'object', required: true, description: 'the search space' },
      strategy: { type: 'string', description: 'grid or random' },
      trials: { type: 'integer', description: 'trials for random search' },
      metric: { type: 'string', description: 'metric that picks the best' },
      workers: { type: 'integer', description: 'trials in parallel' },
      seed: { type: 'integer', description: 'random seed' },
      labelColumn: { type: 'string', description: 'the label column' },
      modelName: { type: 'string', description: 'registered model to add the best version to' },
      experiment: { type: 'string', description: 'experiment to track the trials in' },
    },
    openInputs: true,
    outputs: {
      bestTrainingRunId: { type: 'string', artifact: 'training_run', description: 'the best trial' },
      bestParams: { type: 'object', description: "the best trial's hyper-parameters" },
      metrics: { type: 'object', description: "the best trial's holdout metrics" },
      ...modelVersionOutputs,
    },
    cacheByDefault: true,
  },
  evaluate: {
    executor: 'orchestration',
    description: "Evaluate a model version against its promotion policy (the registry's gate, dry run).",
    inputs: {
      modelName: { type: 'string', required: true, description: 'registered model' },
      version: { type: 'integer', required: true, description: 'candidate version' },
      alias: { type: 'string', description: 'alias the candidate would take (default champion)' },
    },
    openInputs: false,
    outputs: {
      passed: { type: 'boolean', description: 'whether the gate would let the version through' },
      evidence: { type: 'object', description: "the gate's evidence: every comparison and its numbers" },
      modelVersion: { type: 'string', artifact: 'model_version', description: '`name:version`' },
    },
    // The verdict depends on the current champion, which the inputs do not pin.
    cacheByDefault: false,
  },
  register: {
    executor: 'orchestration',
    description: 'Register an ONNX file as a new model version (idempotent), or confirm an existing version.',
    inputs: {
      modelName: { type: 'string', required: true, description: 'registered model' },
      version: { type: 'integer', description: 'an existing version to confirm (instead of artifactPath)' },
      artifactPath: { type: 'string', description: 'a local ONNX file to upload' },
      metrics: { type: 'object', description: 'metrics to record' },
      params: { type: 'object', description: 'params to record' },
      description: { type: 'string', description: 'version description' },
      lineage: { type: 'object', description: 'lineage fields (trainingSetId, datasetVersionIds, …); the run id is added' },
    },
    openInputs: false,
    outputs: { ...modelVersionOutputs, sha256: { type: 'string', description: 'SHA-256 of the ONNX file' } },
    cacheByDefault: false,
  },
  promote: {
    executor: 'orchestration',
    description: "Promote a model version through the registry's gate (moves the alias only if the policy passes).",
    inputs: {
      modelName: { type: 'string', required: true, description: 'registered model' },
      version: { type: 'integer', required: true, description: 'candidate version' },
      alias: { type: 'string', description: 'alias to move (default champion)' },
      reason: { type: 'string', description: 'for the record' },
      failIfRefused: { type: 'boolean', description: 'fail the task when the gate refuses (default: succeed with promoted=false)' },
    },
    openInputs: false,
    outputs: {
      promoted: { type: 'boolean', description: 'whether the alias moved' },
      alias: { type: 'string', description: 'the alias' },
      previousVersion: { type: 'integer', description: 'the version the alias pointed at before (0: none)' },
      evidence: { type: 'object', description: "the gate's evidence" },
      modelVersion: { type: 'string', artifact: 'model_version', description: '`name:version`' },
    },
    cacheByDefault: false,
  },
  deploy: {
    executor: 'orchestration',
    description:
      'Deploy a model version: a canary share of the traffic first; with compareMetric, monitoring compares it with the champion on live, labelled traffic and the version is promoted to champion or rolled back.',
    inputs: {
      modelName: { type: 'string', required: true, description: 'registered model' },
      version: { type: 'integer', required: true, description: 'version to deploy' },
      canaryPercent: { type: 'integer', description: 'share of requests for the canary phase (default 10; 0 skips it)' },
      canaryDuration: { type: 'string', description: 'shortest canary phase, e.g. 5m (default 0s)' },
      canaryAlias: { type: 'string', description: 'alias serving routes canary traffic to (default challenger)' },
      alias: { type: 'string', description: 'alias that takes all the traffic at the end (default champion)' },
      compareMetric: { type: 'string', description: 'live metric that decides (accuracy, roc_auc, log_loss, precision, recall, f1, rmse, mae); absent: promote after the canary phase without comparing' },
      maxRegression: { type: 'number', description: 'how much worse than the champion the challenger may be and still be promoted (default 0)' },
      minLabelled: { type: 'integer', description: 'labelled canary predictions each side needs before comparing (default 200)' },
      canaryTimeout: { type: 'string', description: 'longest canary phase; without enough labels by then the version is rolled back (default 30m)' },
      targetName: { type: 'string', description: "the label's target name in monitoring (default: monitoring's default)" },
      pollInterval: { type: 'string', description: 'how often monitoring is asked (default 5s)' },
      reason: { type: 'string', description: 'why the deployment happens, recorded with every alias move' },
    },
    openInputs: false,
    outputs: {
      deployed: { type: 'boolean', description: 'true once the version takes all the traffic (holds the champion alias)' },
      rolledBack: { type: 'boolean', description: 'true when the live comparison (or its timeout) sent the version back' },
      evidence: { type: 'object', description: 'the decision, its reason and both sides\' live numbers (versions, predictions, labelled, metric values)' },
      modelVersion: { type: 'string', artifact: 'model_version', description: '`name:version`' },
    },
    cacheByDefault: false,
  },
  command: {
    executor: 'orchestration',
    description: 'Run an external command in a child process with a timeout; stdout/stderr become the logs, `$LOOPLINE_OUTPUTS` (a JSON file it may write) the outputs.',
    inputs: {},
    openInputs: true,
    outputs: {},
    // Its effects are unknown to us: it opts in with `cache: true`.
    cacheByDefault: false,
  },
};

export const stepKindNames = Object.keys(stepKinds) as StepKindName[];

export function isStepKindName(value: string): value is StepKindName {
  return Object.prototype.hasOwnProperty.call(stepKinds, value);
}

/** Whether a step of this kind runs in orchestration's own worker. */
export function runsInOrchestrationWorker(kind: StepKindName): boolean {
  return stepKinds[kind].executor === 'orchestration';
}
