import { NotFoundError } from '@loopline/errors';
import type { TensorSpec } from '../domain/tensor/tensor';
import { championAlias, type ModelManager } from './model-manager';
import type { ServedVersion } from './served-version';
import { ServingError } from './serving-error';

/** The Open Inference Protocol `platform` of ONNX Runtime models (Triton's name for its ONNX Runtime backend). */
export const onnxRuntimePlatform = 'onnxruntime_onnx';

export interface ModelMetadata {
  readonly name: string;
  /** Versions of the model loaded on this instance. */
  readonly versions: string[];
  readonly platform: string;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
}

export interface ServerMetadata {
  readonly name: string;
  readonly version: string;
  readonly extensions: readonly string[];
}

/** Protocol extensions this server implements. */
export const supportedExtensions = ['binary_tensor_data'] as const;

/** Readiness of a model: `unknown` when this instance never heard of it (or of that version). */
export type ModelReadiness = 'ready' | 'not-ready' | 'unknown';

/** Answers the metadata and readiness questions of the protocol from what the model manager holds. */
export class ModelMetadataQueries {
  constructor(
    private readonly manager: ModelManager,
    private readonly server: ServerMetadata,
  ) {}

  serverMetadata(): ServerMetadata {
    return this.server;
  }

  serverReady(): boolean {
    return this.manager.ready;
  }

  /** Metadata of a version, or of the champion when no version is given. */
  modelMetadata(name: string, version: string | undefined): ModelMetadata {
    const served = this.find(name, version);
    return {
      name,
      versions: this.manager.loadedVersions(name).map(String),
      platform: onnxRuntimePlatform,
      inputs: served.signature.inputs,
      outputs: served.signature.outputs,
    };
  }

  modelReadiness(name: string, version: string | undefined): ModelReadiness {
    if (version) {
      if (!/^\d{1,10}$/.test(version)) return 'unknown';
      return this.manager.servedVersion(name, Number(version)) ? 'ready' : 'unknown';
    }
    if (this.manager.servedUnder(name, championAlias)) return 'ready';
    return this.manager.knows(name) ? 'not-ready' : 'unknown';
  }

  private find(name: string, version: string | undefined): ServedVersion {
    if (version) {
      const served = /^\d{1,10}$/.test(version) ? this.manager.servedVersion(name, Number(version)) : undefined;
      if (served) return served;
      if (!this.manager.knows(name)) throw new NotFoundError(`unknown model '${name}'`, { model: name });
      throw new NotFoundError(`model '${name}' has no version '${version}' served here`, { model: name, version });
    }
    const champion = this.manager.servedUnder(name, championAlias);
    if (champion) return champion;
    if (this.manager.isLoading(name, championAlias)) throw new ServingError('NOT_READY', `model '${name}' is loading its champion`);
    if (!this.manager.knows(name)) throw new NotFoundError(`unknown model '${name}'`, { model: name });
    throw new NotFoundError(`model '${name}' has no champion served here`, { model: name });
  }
}
