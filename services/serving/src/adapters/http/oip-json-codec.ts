import { ValidationError } from '@loopline/errors';
import type { InputTensorRequest } from '../../domain/tensor/decode-inputs';
import { jsonDataText, rawBytes } from '../../domain/tensor/encode-outputs';
import type { Tensor } from '../../domain/tensor/tensor';
import type { InferResult } from '../../application/inference-service';
import { ServingError } from '../../application/serving-error';

/**
 * The Open Inference Protocol's JSON tensor format over REST, with the binary tensor data
 * extension (Triton, KServe): the body is a JSON header followed by raw tensor bytes, the header's
 * length in `Inference-Header-Content-Length`; inputs in binary carry
 * `parameters.binary_data_size`; outputs are asked in binary with `parameters.binary_data: true`
 * (per output) or `parameters.binary_data_output: true` (whole request). tritonclient sends and
 * asks binary by default.
 */
export interface ParsedInferRequest {
  readonly id: string | undefined;
  readonly inputs: InputTensorRequest[];
  /** Names of the outputs asked for; undefined: all. */
  readonly outputs: string[] | undefined;
  /** Which outputs to answer in binary. */
  readonly binaryOutputs: (name: string) => boolean;
  /** The Triton `timeout` parameter (microseconds), when given. */
  readonly timeoutMicros: number | undefined;
}

export const inferenceHeaderLength = 'inference-header-content-length';

/** Parses a request body (JSON, or JSON + binary tensor data). */
export function parseInferRequest(body: Buffer, headerLength: string | undefined): ParsedInferRequest {
  let jsonBytes = body;
  let binary: Buffer | undefined;
  if (headerLength !== undefined) {
    const length = Number(headerLength);
    if (!Number.isSafeInteger(length) || length < 0 || length > body.length) {
      throw new ValidationError(`Inference-Header-Content-Length is ${JSON.stringify(headerLength)}, the body holds ${body.length} bytes`);
    }
    jsonBytes = body.subarray(0, length);
    binary = body.subarray(length);
  }
  let json: unknown;
  try {
    json = JSON.parse(jsonBytes.toString('utf8'));
  } catch (error) {
    throw new ValidationError(`the request body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ValidationError('the request body must be a JSON object with an "inputs" array');
  const request = json as Record<string, unknown>;

  if (request.id !== undefined && typeof request.id !== 'string') throw new ValidationError(`"id" must be a string, received ${typeof request.id}`);
  const parameters = optionalObject(request.parameters, '"parameters"');
  const binaryOutputAll = parameters?.binary_data_output === true;
  const timeout = parameters?.timeout;
  if (timeout !== undefined && (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout < 0)) {
    throw new ValidationError('the "timeout" parameter must be a non-negative number of microseconds');
  }

  if (!Array.isArray(request.inputs)) throw new ValidationError('the request must have an "inputs" array');
  let binaryOffset = 0;
  const inputs = request.inputs.map((raw, index): InputTensorRequest => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ValidationError(`inputs[${index}] must be an object with name, shape, datatype and data`);
    const input = raw as Record<string, unknown>;
    if (typeof input.name !== 'string' || input.name === '') throw new ValidationError(`inputs[${index}] needs a "name" string`);
    const label = `input '${input.name}'`;
    if (typeof input.datatype !== 'string') throw new ValidationError(`${label}: "datatype" must be a string such as "FP32"`);
    if (!Array.isArray(input.shape) || !input.shape.every((dim) => typeof dim === 'number')) {
      throw new ValidationError(`${label}: "shape" must be an array of non-negative integers`);
    }
    const inputParameters = optionalObject(input.parameters, `${label}: "parameters"`);
    const binarySize = inputParameters?.binary_data_size;
    if (binarySize !== undefined) {
      if (typeof binarySize !== 'number' || !Number.isSafeInteger(binarySize) || binarySize < 0) {
        throw new ValidationError(`${label}: "binary_data_size" must be a non-negative integer`);
      }
      if (!binary || binaryOffset + binarySize > binary.length) {
        throw new ValidationError(`${label}: binary_data_size ${binarySize} runs past the ${binary?.length ?? 0} bytes of binary data in the request`);
      }
      if (input.data !== undefined) throw new ValidationError(`${label}: has both "data" and binary_data_size`);
      const bytes = binary.subarray(binaryOffset, binaryOffset + binarySize);
      binaryOffset += binarySize;
      return { name: input.name, datatype: input.datatype, shape: input.shape as number[], payload: { kind: 'raw', bytes } };
    }
    if (input.data === undefined) throw new ValidationError(`${label}: has no "data" (and no binary_data_size)`);
    return { name: input.name, datatype: input.datatype, shape: input.shape as number[], payload: { kind: 'json', data: input.data } };
  });
  if (binary && binaryOffset !== binary.length) {
    throw new ValidationError(`the request carries ${binary.length} bytes of binary data, its inputs declare ${binaryOffset}`);
  }

  let outputs: string[] | undefined;
  const binaryByName = new Map<string, boolean>();
  if (request.outputs !== undefined) {
    if (!Array.isArray(request.outputs)) throw new ValidationError('"outputs" must be an array of {"name": ...}');
    outputs = request.outputs.map((raw, index) => {
      if (typeof raw !== 'object' || raw === null || typeof (raw as { name?: unknown }).name !== 'string') {
        throw new ValidationError(`outputs[${index}] must be an object with a "name" string`);
      }
      const output = raw as { name: string; parameters?: unknown };
      const outputParameters = optionalObject(output.parameters, `output '${output.name}': "parameters"`);
      if (outputParameters?.classification !== undefined) {
        throw new ServingError('UNSUPPORTED', `output '${output.name}': the classification extension is not supported; ask for the raw output`);
      }
      binaryByName.set(output.name, outputParameters?.binary_data === true || (outputParameters?.binary_data === undefined && binaryOutputAll));
      return output.name;
    });
  }
  return {
    id: request.id as string | undefined,
    inputs,
    outputs,
    binaryOutputs: (name) => binaryByName.get(name) ?? binaryOutputAll,
    timeoutMicros: timeout as number | undefined,
  };
}

function optionalObject(value: unknown, what: string): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new ValidationError(`${what} must be an object`);
  return value as Record<string, unknown>;
}

/** A response body: JSON alone, or JSON header + binary outputs (then `headerLength` is set). */
export interface EncodedResponse {
  readonly body: Buffer | string;
  readonly headerLength: number | undefined;
}

/** Builds the inference response; written as text directly (see `jsonDataText`). */
export function encodeInferResponse(result: InferResult, requestHadId: boolean, binaryOutputs: (name: string) => boolean): EncodedResponse {
  const blobs: Uint8Array[] = [];
  const outputs = result.outputs.map((output: Tensor) => {
    const head = `{"name":${JSON.stringify(output.name)},"datatype":"${output.datatype}","shape":[${output.shape.join(',')}]`;
    if (binaryOutputs(output.name)) {
      const bytes = rawBytes(output);
      blobs.push(bytes);
      return `${head},"parameters":{"binary_data_size":${bytes.byteLength}}}`;
    }
    return `${head},"data":${jsonDataText(output)}}`;
  });
  const parameters = requestHadId ? `,"parameters":{"prediction_id":${JSON.stringify(result.predictionId)}}` : '';
  const json = `{"model_name":${JSON.stringify(result.modelName)},"model_version":${JSON.stringify(result.modelVersion)},"id":${JSON.stringify(result.id)}${parameters},"outputs":[${outputs.join(',')}]}`;
  if (blobs.length === 0) return { body: json, headerLength: undefined };
  const header = Buffer.from(json, 'utf8');
  return { body: Buffer.concat([header, ...blobs]), headerLength: header.length };
}
