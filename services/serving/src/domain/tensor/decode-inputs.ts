import { ValidationError } from '@loopline/errors';
import { elementCount, elementSize, formatShape, isDatatype, typedArrayOf, type Datatype, type NumericDatatype, type TensorElements } from './datatype';
import { toFloat16Bits } from './float16';
import type { Tensor, TensorSpec } from './tensor';

/**
 * How an input's elements arrived:
 * - `json`: the `data` member of the JSON tensor (flat or nested, row-major);
 * - `raw`: flat little-endian bytes (gRPC `raw_input_contents`, HTTP binary tensor data);
 * - `typed`: the gRPC `InferTensorContents` field of the datatype (e.g. `fp32_contents`), with
 *   64-bit integers as decimal strings and BYTES as byte arrays.
 */
export type TensorPayload =
  | { readonly kind: 'json'; readonly data: unknown }
  | { readonly kind: 'raw'; readonly bytes: Uint8Array }
  | { readonly kind: 'typed'; readonly values: readonly unknown[] };

/** One input tensor of a request, as the transport parsed it; nothing is checked yet. */
export interface InputTensorRequest {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly payload: TensorPayload;
}

/** Largest number of elements one input may declare; larger shapes are refused before any allocation. */
export const maxElementsPerTensor = 2 ** 31 - 1;

/**
 * Checks a request's inputs against the model's input metadata and decodes their elements: every
 * input present once, known, of the declared datatype, of a shape the model accepts, with exactly
 * as many elements as the shape holds. Runs before the model does, so a bad request never reaches
 * ONNX Runtime; each `ValidationError` names the tensor, what was expected and what was received.
 * Returns the tensors in the model's input order.
 */
export function decodeInputs(expected: readonly TensorSpec[], received: readonly InputTensorRequest[]): Tensor[] {
  const byName = new Map<string, InputTensorRequest>();
  const expectedNames = expected.map((spec) => spec.name);
  for (const input of received) {
    if (byName.has(input.name)) throw new ValidationError(`input '${input.name}' appears more than once`, { input: input.name });
    if (!expectedNames.includes(input.name)) {
      throw new ValidationError(`unexpected input '${input.name}': the model's inputs are ${quoteAll(expectedNames)}`, { input: input.name, expected: expectedNames });
    }
    byName.set(input.name, input);
  }
  const missing = expectedNames.filter((name) => !byName.has(name));
  if (missing.length > 0) {
    throw new ValidationError(`missing input${missing.length > 1 ? 's' : ''} ${quoteAll(missing)}: the model's inputs are ${quoteAll(expectedNames)}`, { missing });
  }
  return expected.map((spec) => decodeInput(spec, byName.get(spec.name)!));
}

function decodeInput(spec: TensorSpec, input: InputTensorRequest): Tensor {
  const name = spec.name;
  if (input.datatype !== spec.datatype) {
    const known = isDatatype(input.datatype) ? '' : ' (not an Open Inference Protocol datatype)';
    throw new ValidationError(`input '${name}': expected datatype ${spec.datatype}, received ${input.datatype}${known}`, {
      input: name,
      expected: spec.datatype,
      received: input.datatype,
    });
  }
  checkShape(spec, input.shape);
  const count = elementCount(input.shape);
  if (count > maxElementsPerTensor) {
    throw new ValidationError(`input '${name}': shape ${formatShape(input.shape)} holds ${count} elements, more than the ${maxElementsPerTensor} allowed`, { input: name });
  }
  const data = decodeElements(name, spec.datatype, input.shape, count, input.payload);
  return { name, datatype: spec.datatype, shape: [...input.shape], data };
}

function checkShape(spec: TensorSpec, shape: readonly number[]): void {
  const name = spec.name;
  if (!Array.isArray(shape) || !shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0)) {
    throw new ValidationError(`input '${name}': invalid shape ${formatShape(shape)}: dimensions must be non-negative integers`, { input: name });
  }
  if (shape.length !== spec.shape.length) {
    throw new ValidationError(
      `input '${name}': expected shape ${formatShape(spec.shape)} (rank ${spec.shape.length}), received ${formatShape(shape)} (rank ${shape.length})`,
      { input: name, expected: spec.shape, received: shape },
    );
  }
  spec.shape.forEach((want, index) => {
    if (want !== -1 && shape[index] !== want) {
      throw new ValidationError(
        `input '${name}': expected shape ${formatShape(spec.shape)}, received ${formatShape(shape)}: dimension ${index} must be ${want}`,
        { input: name, expected: spec.shape, received: shape },
      );
    }
  });
}

function decodeElements(name: string, datatype: Datatype, shape: readonly number[], count: number, payload: TensorPayload): TensorElements {
  switch (payload.kind) {
    case 'json':
      return fromValues(name, datatype, shape, count, flattenJson(name, payload.data), 'data');
    case 'typed':
      return fromValues(name, datatype, shape, count, payload.values, 'contents');
    case 'raw':
      return fromRaw(name, datatype, shape, count, payload.bytes);
    default: {
      const unreachable: never = payload;
      throw new Error(`unknown payload ${String(unreachable)}`);
    }
  }
}

/** JSON `data` may be nested (`[[1, 2], [3, 4]]`) or flat; row-major either way. */
function flattenJson(name: string, data: unknown): readonly unknown[] {
  if (!Array.isArray(data)) {
    throw new ValidationError(`input '${name}': 'data' must be an array of elements, received ${describe(data)}`, { input: name });
  }
  if (data.length === 0 || !Array.isArray(data[0])) return data;
  const flat: unknown[] = [];
  const stack: unknown[][] = [data];
  const positions: number[] = [0];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const position = positions[positions.length - 1];
    if (position === top.length) {
      stack.pop();
      positions.pop();
      continue;
    }
    positions[positions.length - 1] = position + 1;
    const element = top[position];
    if (Array.isArray(element)) {
      if (stack.length > 64) throw new ValidationError(`input '${name}': 'data' is nested more than 64 levels deep`, { input: name });
      stack.push(element);
      positions.push(0);
    } else {
      flat.push(element);
    }
  }
  return flat;
}

function countMismatch(name: string, shape: readonly number[], count: number, received: number, what: string): ValidationError {
  return new ValidationError(`input '${name}': shape ${formatShape(shape)} holds ${count} elements, received ${received} in '${what}'`, {
    input: name,
    expected: count,
    received,
  });
}

const integerRanges: Partial<Record<Datatype, readonly [number, number]>> = {
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-2147483648, 2147483647],
  UINT8: [0, 255],
  UINT16: [0, 65535],
  UINT32: [0, 4294967295],
};

function fromValues(name: string, datatype: Datatype, shape: readonly number[], count: number, values: readonly unknown[], what: string): TensorElements {
  if (values.length !== count) throw countMismatch(name, shape, count, values.length, what);
  const bad = (index: number, wanted: string): ValidationError =>
    new ValidationError(`input '${name}': element ${index} is ${describe(values[index])}, expected ${wanted} (${datatype})`, { input: name, element: index });
  switch (datatype) {
    case 'FP32':
    case 'FP64': {
      const out = datatype === 'FP32' ? new Float32Array(count) : new Float64Array(count);
      for (let index = 0; index < count; index++) {
        const value = values[index];
        if (typeof value !== 'number') throw bad(index, 'a number');
        out[index] = value;
      }
      return out;
    }
    case 'FP16': {
      const out = new Uint16Array(count);
      for (let index = 0; index < count; index++) {
        const value = values[index];
        if (typeof value !== 'number') throw bad(index, 'a number');
        out[index] = toFloat16Bits(value);
      }
      return out;
    }
    case 'INT8':
    case 'INT16':
    case 'INT32':
    case 'UINT8':
    case 'UINT16':
    case 'UINT32': {
      const [min, max] = integerRanges[datatype]!;
      const Typed = typedArrayOf(datatype);
      const out = new Typed(count) as Int32Array;
      for (let index = 0; index < count; index++) {
        const value = values[index];
        if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw bad(index, `an integer in [${min}, ${max}]`);
        out[index] = value;
      }
      return out;
    }
    case 'INT64':
    case 'UINT64': {
      const out = datatype === 'INT64' ? new BigInt64Array(count) : new BigUint64Array(count);
      const [min, max] = datatype === 'INT64' ? [-(2n ** 63n), 2n ** 63n - 1n] : [0n, 2n ** 64n - 1n];
      for (let index = 0; index < count; index++) {
        const value = values[index];
        let big: bigint | undefined;
        if (typeof value === 'number' && Number.isInteger(value)) big = BigInt(value);
        else if (typeof value === 'string' && /^-?\d+$/.test(value)) big = BigInt(value);
        else if (typeof value === 'bigint') big = value;
        if (big === undefined || big < min || big > max) throw bad(index, 'an integer in range');
        out[index] = big;
      }
      return out;
    }
    case 'BOOL': {
      const out = new Uint8Array(count);
      for (let index = 0; index < count; index++) {
        const value = values[index];
        if (typeof value !== 'boolean') throw bad(index, 'true or false');
        out[index] = value ? 1 : 0;
      }
      return out;
    }
    case 'BYTES': {
      const out = new Array<string>(count);
      for (let index = 0; index < count; index++) {
        const value = values[index];
        if (typeof value === 'string') out[index] = value;
        else if (value instanceof Uint8Array) out[index] = utf8.decode(value);
        else throw bad(index, 'a string');
      }
      return out;
    }
    default: {
      const unreachable: never = datatype;
      throw new Error(`unknown datatype ${String(unreachable)}`);
    }
  }
}

const utf8 = new TextDecoder('utf-8');

function fromRaw(name: string, datatype: Datatype, shape: readonly number[], count: number, bytes: Uint8Array): TensorElements {
  if (datatype === 'BYTES') return bytesFromRaw(name, shape, count, bytes);
  const size = elementSize(datatype);
  if (bytes.byteLength !== count * size) {
    throw new ValidationError(
      `input '${name}': shape ${formatShape(shape)} holds ${count} ${datatype} elements (${count * size} bytes), received ${bytes.byteLength} bytes of raw contents`,
      { input: name, expected: count * size, received: bytes.byteLength },
    );
  }
  // Copied into a fresh, aligned buffer: raw contents sit at arbitrary offsets of the message.
  // Typed arrays are little-endian on every platform Node supports for ONNX Runtime.
  const copy = new Uint8Array(count * size);
  copy.set(bytes);
  const Typed = typedArrayOf(datatype as NumericDatatype);
  const out = new Typed(copy.buffer);
  if (datatype === 'BOOL') for (let index = 0; index < count; index++) copy[index] = copy[index] === 0 ? 0 : 1;
  return out;
}

/** BYTES in raw form: each element is a 4-byte little-endian length followed by that many bytes. */
function bytesFromRaw(name: string, shape: readonly number[], count: number, bytes: Uint8Array): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: string[] = [];
  let offset = 0;
  while (offset < bytes.byteLength) {
    if (out.length === count) break;
    if (offset + 4 > bytes.byteLength) break;
    const length = view.getUint32(offset, true);
    offset += 4;
    if (offset + length > bytes.byteLength) {
      throw new ValidationError(`input '${name}': BYTES element ${out.length} declares ${length} bytes, only ${bytes.byteLength - offset} remain in the raw contents`, { input: name });
    }
    out.push(utf8.decode(bytes.subarray(offset, offset + length)));
    offset += length;
  }
  if (out.length !== count || offset !== bytes.byteLength) {
    throw new ValidationError(
      `input '${name}': shape ${formatShape(shape)} holds ${count} BYTES elements, the raw contents hold ${out.length}${offset !== bytes.byteLength ? ' and trailing bytes' : ''}`,
      { input: name, expected: count, received: out.length },
    );
  }
  return out;
}

function quoteAll(names: readonly string[]): string {
  return names.map((name) => `'${name}'`).join(', ');
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return 'an object';
  return String(value);
}
