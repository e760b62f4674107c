import type { ModelSignature, Tensor, TensorSpec } from '../domain/tensor/tensor';

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
