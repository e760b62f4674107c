import type { Logger } from '@loopline/telemetry';
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import type { ExecutionProviderName } from '../../config';
import type { Datatype, TensorElements } from '../../domain/tensor/datatype';
import type { ModelSignature, Tensor, TensorSpec } from '../../domain/tensor/tensor';
import type { InferenceRuntime, LoadedModel } from '../../application/ports';
import { ModelLoadError } from '../../application/serving-error';

export interface OnnxRuntimeOptions {
  readonly executionProvider: ExecutionProviderName;
  readonly cudaDeviceId: number;
  readonly intraOpThreads: number;
  readonly logger: Logger;
}

type OrtType = 'bool' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'int8' | 'int16' | 'int32' | 'int64' | 'float16' | 'float32' | 'float64' | 'string';

const ortTypeOf: Record<Datatype, OrtType> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
};

const datatypeOf: Readonly<Record<string, Datatype>> = Object.fromEntries(Object.entries(ortTypeOf).map(([datatype, ort]) => [ort, datatype as Datatype]));

/**
 * ONNX Runtime (onnxruntime-node) behind the `InferenceRuntime` port. CPU by default; with
 * `executionProvider: 'cuda'` it asks for the CUDA execution provider and, when the CUDA build or
 * a GPU is absent, falls back to the CPU with one warning (the decision is made once per process).
 */
export class OnnxRuntime implements InferenceRuntime {
  private cudaUnavailable = false;

  constructor(private readonly options: OnnxRuntimeOptions) {}

  async load(modelBytes: Uint8Array): Promise<LoadedModel> {
    const wantsCuda = this.options.executionProvider === 'cuda' && !this.cudaUnavailable;
    if (wantsCuda) {
      try {
        return await this.create(modelBytes, 'cuda');
      } catch (error) {
        // Loads again on the CPU: if that works the model was fine and CUDA was the problem.
        const onCpu = await this.create(modelBytes, 'cpu');
        this.cudaUnavailable = true;
        this.options.logger.warn(
          { err: error },
          'the CUDA execution provider is not available (no GPU, no CUDA 12 runtime, or onnxruntime-node installed without its CUDA files): models run on the CPU',
        );
        return onCpu;
      }
    }
    return this.create(modelBytes, 'cpu');
  }

  private async create(modelBytes: Uint8Array, provider: 'cpu' | 'cuda'): Promise<LoadedModel> {
    let session: InferenceSession;
    try {
      session = await InferenceSession.create(modelBytes, {
        executionProviders: provider === 'cuda' ? [{ name: 'cuda', deviceId: this.options.cudaDeviceId }, 'cpu'] : ['cpu'],
        intraOpNumThreads: this.options.intraOpThreads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        logSeverityLevel: 3,
      });
    } catch (error) {
      throw new ModelLoadError('INVALID_MODEL', `ONNX Runtime cannot load the model: ${error instanceof Error ? error.message : String(error)}`);
    }
    let signature: ModelSignature;
    try {
      signature = { inputs: specsOf(session.inputMetadata, 'input'), outputs: specsOf(session.outputMetadata, 'output') };
    } catch (error) {
      await session.release();
      throw error;
    }
    return new OnnxModel(session, signature, provider);
  }
}

function specsOf(metadata: readonly InferenceSession.ValueMetadata[], kind: string): TensorSpec[] {
  return metadata.map((value) => {
    if (!value.isTensor) throw new ModelLoadError('INVALID_MODEL', `${kind} '${value.name}' is not a tensor (e.g. a ZipMap sequence of maps); export the model with tensor outputs`);
    const datatype = datatypeOf[value.type];
    if (!datatype) throw new ModelLoadError('INVALID_MODEL', `${kind} '${value.name}' has element type ${value.type}, which the Open Inference Protocol cannot carry`);
    return { name: value.name, datatype, shape: value.shape.map((dim) => (typeof dim === 'number' && dim >= 0 ? dim : -1)) };
  });
}

class OnnxModel implements LoadedModel {
  constructor(
    private readonly session: InferenceSession,
    readonly signature: ModelSignature,
    readonly executionProvider: string,
  ) {}

  async run(inputs: readonly Tensor[], outputNames: readonly string[]): Promise<Tensor[]> {
    const feeds: Record<string, OrtTensor> = {};
    for (const input of inputs) feeds[input.name] = toOrt(input);
    const results = await this.session.run(feeds, [...outputNames]);
    return outputNames.map((name) => fromOrt(name, results[name]));
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

function toOrt(tensor: Tensor): OrtTensor {
  // The element arrays already have ONNX Runtime's in-memory layout (BOOL as bytes, FP16 as bits).
  return new OrtTensor(ortTypeOf[tensor.datatype], tensor.data as never, [...tensor.shape]);
}

function fromOrt(name: string, value: OrtTensor): Tensor {
  const datatype = datatypeOf[value.type];
  if (!datatype) throw new Error(`output '${name}' has element type ${value.type}, which the Open Inference Protocol cannot carry`);
  return { name, datatype, shape: [...value.dims], data: value.data as TensorElements };
}
