// What the training application needs from the outside world. Adapters implement these; each
// handler receives only the ports it uses.
import type { EventStore } from '@loopline/eventsourcing';
import type { Dataset, ReferenceProfile, SplitSpec } from '@loopline/ml';
import type { Artifact, FeatureViewRef } from '../domain/training-run/training-run';

export interface Clock {
  now(): Date;
}

export interface IdGenerator {
  newId(): string;
}

/** Who asks; the application adds time and ids. */
export interface RequestContext {
  readonly actor: string;
  readonly correlationId?: string;
}

export type TrainingEventStore = Pick<EventStore, 'aggregateStream' | 'appendToStream' | 'readStream'>;

/** A training set as the feature store describes it. */
export interface TrainingSetInfo {
  /** SHA-256 of its Parquet bytes. */
  readonly id: string;
  readonly rowCount: number;
  /** The dataset versions it was built from: the entity rows' and each joined view's. */
  readonly datasetVersionIds: readonly string[];
  readonly featureViews: readonly FeatureViewRef[];
  /** The feature columns the set joined (its recipe's), the default features of a job. */
  readonly featureColumns: readonly string[];
  /** The entity rows' event-time column, the default time split. */
  readonly eventTimeColumn: string | null;
}

/** Where training sets come from (the feature store's REST API, or files in tests). */
export interface TrainingSetSource {
  /** `NotFoundError` for an unknown id; `UnavailableError` when the source cannot be reached. */
  describe(id: string): Promise<TrainingSetInfo>;
  /** Writes the Parquet bytes to `path`, checked against the id (its SHA-256). */
  download(id: string, path: string): Promise<void>;
}

/** Reads a Parquet file into typed columns (numbers as float64, strings as categories, times as epoch ms). */
export interface DatasetReader {
  read(path: string, columns: readonly string[]): Promise<Dataset>;
}

/** The run's files, content-addressed in the training service's artifact store. */
export interface RunArtifactStore {
  storeBytes(name: string, bytes: Uint8Array, contentType: string): Promise<Artifact>;
  storeFile(name: string, path: string, contentType: string): Promise<Artifact>;
  read(artifact: Pick<Artifact, 'sha256' | 'sizeBytes'>): Promise<NodeJS.ReadableStream>;
  /** A fresh scratch folder for one job; removed with `release`. */
  scratch(): Promise<{ readonly path: string; release(): Promise<void> }>;
}

export interface ModelVersionMetadata {
  readonly description: string;
  readonly metrics: Readonly<Record<string, number>>;
  readonly params: Readonly<Record<string, string>>;
  readonly tags: Readonly<Record<string, string>>;
  readonly lineage: {
    readonly trainingRunId: string;
    readonly pipelineRunId: string;
    readonly experimentName: string;
    readonly trainingSetId: string;
    readonly datasetVersionIds: readonly string[];
    readonly featureViews: readonly FeatureViewRef[];
    readonly trainerName: string;
    readonly trainerVersion: string;
    readonly codeCommit: string;
  };
  readonly referenceProfile: ReferenceProfile | null;
}

/** The model registry's REST API. */
export interface ModelRegistry {
  /** Creates the registered model unless it exists. */
  ensureModel(name: string, description: string): Promise<void>;
  /**
   * Registers a version; a retry with the same `idempotencyKey` returns the first version
   * (the registry records the key), so a job that crashed after registering never registers twice.
   */
  registerVersion(name: string, onnx: Uint8Array, metadata: ModelVersionMetadata, idempotencyKey: string): Promise<{ readonly version: number }>;
}

/** What a built-in training computes (see `trainAndEvaluate` of @loopline/ml), in plain data. */
export interface BuiltinTrainingResult {
  readonly onnx: Uint8Array;
  readonly metrics: Record<string, number>;
  readonly curves: { readonly roc: readonly unknown[]; readonly pr: readonly unknown[] } | null;
  readonly featureImportance: readonly { readonly feature: string; readonly gain: number; readonly splits: number }[];
  readonly profile: ReferenceProfile;
  readonly trainRows: number;
  readonly holdoutRows: number;
  readonly durationMs: number;
}

export interface BuiltinTrainingJob {
  readonly dataset: Dataset;
  readonly trainer: string;
  readonly label: string;
  readonly features: readonly string[];
  readonly split: SplitSpec;
  readonly params: Readonly<Record<string, unknown>>;
  readonly seed: number;
  readonly threshold: number;
}

/** Runs built-in trainings off the event loop (worker threads), at most N at once. */
export interface BuiltinTrainerPool {
  train(job: BuiltinTrainingJob): Promise<BuiltinTrainingResult>;
}

/** The external-trainer contract's spec file (docs/adr/0007-training.md, examples/trainers/python). */
export interface ExternalTrainerSpec {
  readonly contractVersion: 1;
  readonly runId: string;
  readonly trainingSet: { readonly id: string; readonly path: string; readonly rowCount: number };
  readonly labelColumn: string;
  readonly featureColumns: readonly string[];
  readonly task: 'binary' | 'regression';
  readonly split: SplitSpec;
  readonly params: Readonly<Record<string, unknown>>;
  readonly seed: number;
  readonly outputDir: string;
}

export interface ExternalTrainerResult {
  readonly modelPath: string;
  readonly metrics: Record<string, number>;
  /** Captured stdout + stderr. */
  readonly logPath: string;
  readonly durationMs: number;
}

export interface ExternalTrainerInfo {
  readonly name: string;
  /** The trainer's version (from config), else the SHA-256 of its lockfile. */
  readonly version: string;
  readonly lockfileSha256: string;
}

/** Runs the external trainers declared in configuration (never a command a client sends). */
export interface ExternalTrainers {
  list(): readonly ExternalTrainerInfo[];
  get(name: string): ExternalTrainerInfo | undefined;
  run(name: string, spec: ExternalTrainerSpec, specPath: string, signal: AbortSignal): Promise<ExternalTrainerResult>;
}
