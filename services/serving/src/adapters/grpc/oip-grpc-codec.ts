import { ValidationError } from '@loopline/errors';
import type { Datatype } from '../../domain/tensor/datatype';
import type { InputTensorRequest } from '../../domain/tensor/decode-inputs';
import { rawBytes } from '../../domain/tensor/encode-outputs';
import type { Tensor } from '../../domain/tensor/tensor';
import type { InferResult } from '../../application/inference-service';

/**
 * `inference.GRPCInferenceService` messages as @grpc/proto-loader hands them over with the service
 * host's loader options: camelCase field names (the wire only knows field numbers, so clients
 * are unaffected), 64-bit integers as decimal strings, defaults filled in.
 */
export interface InferParameterMessage {
  readonly boolParam?: boolean;
  readonly int64Param?: string;
  readonly stringParam?: string;
  readonly doubleParam?: number;
  readonly uint64Param?: string;
  readonly parameterChoice?: 'boolParam' | 'int64Param' | 'stringParam' | 'doubleParam' | 'uint64Param';
}

export interface TensorContentsMessage {
  readonly boolContents?: readonly boolean[];
  readonly intContents?: readonly number[];
  readonly int64Contents?: readonly string[];
  readonly uintContents?: readonly number[];
  readonly uint64Contents?: readonly string[];
  readonly fp32Contents?: readonly number[];
  readonly fp64Contents?: readonly number[];
  readonly bytesContents?: readonly Buffer[];
}

export interface ModelInferRequestMessage {
  readonly modelName: string;
  readonly modelVersion: string;
  readonly id: string;
  readonly parameters?: Readonly<Record<string, InferParameterMessage>>;
  readonly inputs?: readonly {
    readonly name: string;
    readonly datatype: string;
    readonly shape?: readonly (string | number)[];
    readonly parameters?: Readonly<Record<string, InferParameterMessage>>;
    readonly contents?: TensorContentsMessage | null;
  }[];
  readonly outputs?: readonly { readonly name: string; readonly parameters?: Readonly<Record<string, InferParameterMessage>> }[];
  readonly rawInputContents?: readonly Buffer[];
}

export interface ModelInferResponseMessage {
  readonly modelName: string;
  readonly modelVersion: string;
  readonly id: string;
  readonly parameters: Record<string, InferParameterMessage>;
  readonly outputs: { name: string; datatype: string; shape: number[]; contents?: TensorContentsMessage }[];
  readonly rawOutputContents: Buffer[];
}

type ContentsField = keyof TensorContentsMessage;

/** The typed-contents field of each datatype; FP16 has none (it travels raw). */
function contentsFieldOf(datatype: Datatype): ContentsField | undefined {
  switch (datatype) {
    case 'BOOL':
      return 'boolContents';
    case 'INT8':
    case 'INT16':
    case 'INT32':
      return 'intContents';
    case 'INT64':
      return 'int64Contents';
    case 'UINT8':
    case 'UINT16':
    case 'UINT32':
      return 'uintContents';
    case 'UINT64':
      return 'uint64Contents';
    case 'FP32':
      return 'fp32Contents';
    case 'FP64':
      return 'fp64Contents';
    case 'BYTES':
      return 'bytesContents';
    case 'FP16':
      return undefined;
    default: {
      const unreachable: never = datatype;
      throw new Error(`unknown datatype ${String(unreachable)}`);
    }
  }
}

const contentsFields: readonly ContentsField[] = ['boolContents', 'intContents', 'int64Contents', 'uintContents', 'uint64Contents', 'fp32Contents', 'fp64Contents', 'bytesContents'];

function hasContents(contents: TensorContentsMessage | null | undefined): contents is TensorContentsMessage {
  return contents !== null && contents !== undefined && contentsFields.some((field) => (contents[field]?.length ?? 0) > 0);
}

export interface ParsedGrpcInfer {
  readonly inputs: InputTensorRequest[];
  readonly outputs: string[] | undefined;
  /** Whether the request used raw_input_contents: the response then uses raw_output_contents. */
  readonly raw: boolean;
  readonly timeoutMicros: number | undefined;
}

export function parseModelInferRequest(request: ModelInferRequestMessage): ParsedGrpcInfer {
  const inputs = request.inputs ?? [];
  const raw = request.rawInputContents ?? [];
  const usesRaw = raw.length > 0;
  if (usesRaw && raw.length !== inputs.length) {
    throw new ValidationError(`raw_input_contents has ${raw.length} entries for ${inputs.length} inputs: it needs one per input, in order`);
  }
  const parsedInputs = inputs.map((input, index): InputTensorRequest => {
    const shape = (input.shape ?? []).map((dim) => Number(dim));
    const label = `input '${input.name}'`;
    if (usesRaw) {
      if (hasContents(input.contents)) throw new ValidationError(`${label}: sets contents while the request uses raw_input_contents (use one or the other)`);
      return { name: input.name, datatype: input.datatype, shape, payload: { kind: 'raw', bytes: raw[index] } };
    }
    const field = isKnownDatatype(input.datatype) ? contentsFieldOf(input.datatype) : undefined;
    if (input.datatype === 'FP16') throw new ValidationError(`${label}: FP16 has no typed contents field; send it in raw_input_contents`);
    const values = field ? (input.contents?.[field] ?? []) : [];
    return { name: input.name, datatype: input.datatype, shape, payload: { kind: 'typed', values } };
  });
  const timeout = request.parameters?.timeout;
  const timeoutMicros = timeout === undefined ? undefined : Number(timeout.int64Param ?? timeout.uint64Param ?? timeout.doubleParam ?? NaN);
  if (timeoutMicros !== undefined && !(timeoutMicros >= 0)) throw new ValidationError('the "timeout" parameter must be a non-negative number of microseconds');
  if (request.outputs?.some((output) => output.parameters?.classification !== undefined)) {
    throw new ValidationError('the classification extension is not supported; ask for the raw output');
  }
  const outputs = request.outputs && request.outputs.length > 0 ? request.outputs.map((output) => output.name) : undefined;
  return { inputs: parsedInputs, outputs, raw: usesRaw, timeoutMicros };
}

const knownDatatypes: ReadonlySet<string> = new Set(['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES']);

function isKnownDatatype(value: string): value is Datatype {
  return knownDatatypes.has(value);
}

/** The response: raw contents when the request was raw or any output is FP16, typed contents otherwise. */
export function encodeModelInferResponse(result: InferResult, raw: boolean, requestHadId: boolean): ModelInferResponseMessage {
  const useRaw = raw || result.outputs.some((output) => output.datatype === 'FP16');
  return {
    modelName: result.modelName,
    modelVersion: result.modelVersion,
    id: result.id,
    parameters: requestHadId ? { prediction_id: { stringParam: result.predictionId } } : {},
    outputs: result.outputs.map((output) => ({
      name: output.name,
      datatype: output.datatype,
      shape: [...output.shape],
      ...(useRaw ? {} : { contents: typedContents(output) }),
    })),
    rawOutputContents: useRaw ? result.outputs.map((output) => Buffer.from(rawBytes(output))) : [],
  };
}

function typedContents(tensor: Tensor): TensorContentsMessage {
  const field = contentsFieldOf(tensor.datatype)!;
  const data = tensor.data;
  switch (field) {
    case 'boolContents':
      return { boolContents: Array.from(data as Uint8Array, (value) => value !== 0) };
    case 'int64Contents':
    case 'uint64Contents':
      return { [field]: Array.from(data as BigInt64Array, (value) => value.toString()) };
    case 'bytesContents':
      return { bytesContents: (data as string[]).map((text) => Buffer.from(text, 'utf8')) };
    default:
      return { [field]: Array.from(data as Float32Array) };
  }
}
