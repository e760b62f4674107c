import type { ModelSignature, Tensor, TensorSpec } from '../domain/tensor/tensor';
import type { FeatureLookup, OnlineValue } from '../domain/features/feature-binding';

/** A registered model as the registry lists it. */
export interface RegisteredModel {
  readonly name: string;
  readonly latestVersion: number;
  /** Alias → version, e.g. `{ champion: 3, challenger: 4 }`. */
  readonly aliases: Readonly<Record<string, number>>;
}

/** One model version as the registry describes it. */
export interface RegisteredVersion {
  readonly name: string;
  readonly version: number;
  readonly artifact: { readonly sha256: string; readonly sizeBytes: number; readonly uri?: string };
  readonly signature: { readonly inputs: readonly TensorSpec[]; readonly outputs: readonly TensorSpec[] };
  readonly status: 'READY' | 'ARCHIVED';
}

/** Where models come from: the registry, behind a port. */
export interface ModelSource {
  listModels(): Promise<RegisteredModel[]>;
  /** Undefined when the registry has no such version. */
  getVersion(name: string, version: number): Promise<RegisteredVersion | undefined>;
  /** The ONNX file's bytes, unverified: the caller checks them against the registered sha256. */
  downloadArtifact(name: string, version: number): Promise<Buffer>;
}

/** A model loaded into a runtime, ready to run. */
export interface LoadedModel {
  readonly signature: ModelSignature;
  /** Which execution provider runs it, e.g. `cpu` or `cuda`. */
  readonly executionProvider: string;
  /** Runs the model on tensors in input order; returns the asked outputs in that order. */
  run(inputs: readonly Tensor[], outputNames: readonly string[]): Promise<Tensor[]>;
  /** Frees the runtime's memory; the model cannot run afterwards. */
  release(): Promise<void>;
}

/** Loads ONNX models: ONNX Runtime behind a port. */
export interface InferenceRuntime {
  /** Throws `ModelLoadError` when the bytes are not a model the runtime can run. */
  load(modelBytes: Uint8Array): Promise<LoadedModel>;
}

/** The feature store's online API, behind a port. */
export interface OnlineFeatureStore {
  /**
   * One entity's latest values of the features `query` names. Throws `ValidationError` for what
   * the feature store refuses (unknown feature service, a join key missing), `UnavailableError`
   * when it cannot be reached or did not answer by `deadline` (epoch ms).
   */
  getOnlineFeatures(query: NonNullable<FeatureLookup['query']>, entities: Readonly<Record<string, string>>, deadline: number): Promise<OnlineValue[]>;
}

/** One feature of a training set: the view version it came from and its column. */
export interface TrainingSetFeature {
  readonly view: string;
  readonly version: number;
  readonly feature: string;
  readonly column: string;
}

/** Where a model version's features come from: the registry's version record and the feature store's training sets. */
export interface FeatureLineageSource {
  /** The version's `loopline.feature_service` tag and its lineage's training set id (empty when none). */
  versionLineage(modelName: string, version: number): Promise<{ readonly featureServiceTag: string; readonly trainingSetId: string }>;
  /** The features of a training set, from its recipe. */
  trainingSetFeatures(trainingSetId: string): Promise<{ readonly featureService: string | null; readonly features: readonly TrainingSetFeature[] }>;
}
