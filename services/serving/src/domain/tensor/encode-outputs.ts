import type { TensorElements, TypedElements } from './datatype';
import { fromFloat16Bits } from './float16';
import type { Tensor } from './tensor';

/**
 * The elements of a tensor as the JSON text of a flat array, written directly rather than through
 * `JSON.stringify` of a copy: faster, and exact for 64-bit integers (digits, not doubles).
 * Non-finite floats have no JSON form and are written as `null`.
 */
export function jsonDataText(tensor: Tensor): string {
  const data = tensor.data;
  switch (tensor.datatype) {
    case 'BYTES':
      return JSON.stringify(data);
    case 'BOOL': {
      const flags = data as Uint8Array;
      let text = '[';
      for (let index = 0; index < flags.length; index++) text += (index === 0 ? '' : ',') + (flags[index] === 0 ? 'false' : 'true');
      return `${text}]`;
    }
    case 'FP16':
      return finiteJson(Array.from(data as Uint16Array, fromFloat16Bits).join(','));
    case 'FP32':
    case 'FP64':
      return finiteJson(Array.prototype.join.call(data as Float32Array, ','));
    default:
      return `[${Array.prototype.join.call(data as TypedElements, ',')}]`;
  }
}

function finiteJson(joined: string): string {
  // Only NaN and Infinity put capital letters into a join of numbers.
  if (!/[NI]/.test(joined)) return `[${joined}]`;
  return `[${joined
    .split(',')
    .map((text) => (text === 'NaN' || text.endsWith('Infinity') ? 'null' : text))
    .join(',')}]`;
}

/** The raw, little-endian bytes of a tensor (BYTES: each element as 4-byte length + UTF-8 bytes). */
export function rawBytes(tensor: Tensor): Uint8Array {
  const data = tensor.data;
  if (Array.isArray(data)) {
    const encoded = data.map((text) => utf8.encode(text));
    const out = new Uint8Array(encoded.reduce((sum, bytes) => sum + 4 + bytes.byteLength, 0));
    const view = new DataView(out.buffer);
    let offset = 0;
    for (const bytes of encoded) {
      view.setUint32(offset, bytes.byteLength, true);
      out.set(bytes, offset + 4);
      offset += 4 + bytes.byteLength;
    }
    return out;
  }
  const typed = data as TypedElements;
  return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
}

const utf8 = new TextEncoder();

/** Plain JSON values of the elements: numbers (64-bit integers may round), booleans, strings. */
export function plainValues(tensor: Tensor): (number | boolean | string)[] {
  const data: TensorElements = tensor.data;
  if (Array.isArray(data)) return data;
  switch (tensor.datatype) {
    case 'BOOL':
      return Array.from(data as Uint8Array, (value) => value !== 0);
    case 'FP16':
      return Array.from(data as Uint16Array, fromFloat16Bits);
    case 'INT64':
    case 'UINT64':
      return Array.from(data as BigInt64Array, (value) => Number(value));
    default:
      return Array.from(data as Float32Array);
  }
}

/**
 * A tensor's elements nested by its shape, e.g. `[[1, 2], [3, 4]]`: how the prediction log shows
 * tensors (JSON values only: NaN and infinities become null).
 */
export function nestedValues(tensor: Tensor): unknown {
  const plain = plainValues(tensor);
  const flat = tensor.datatype.startsWith('FP') ? plain.map((value) => (Number.isFinite(value) ? value : null)) : plain;
  const shape = tensor.shape;
  if (shape.length <= 1) return flat;
  const nest = (offset: number, depth: number): unknown[] => {
    const size = shape[depth];
    if (depth === shape.length - 1) return flat.slice(offset, offset + size);
    const stride = shape.slice(depth + 1).reduce((product, dim) => product * dim, 1);
    const out: unknown[] = [];
    for (let index = 0; index < size; index++) out.push(nest(offset + index * stride, depth + 1));
    return out;
  };
  return nest(0, 0);
}
