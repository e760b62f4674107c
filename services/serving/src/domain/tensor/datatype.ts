/**
 * Open Inference Protocol datatypes and how their elements are held in memory. Pure: no I/O.
 *
 * In memory, a tensor's elements are one flat, row-major array of the datatype's kind: a typed
 * array for numbers (BOOL as 0/1 bytes, FP16 as its raw 16-bit patterns, INT64/UINT64 as bigints),
 * and a string array for BYTES (ONNX string tensors are UTF-8 text).
 */
export const datatypes = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'] as const;

export type Datatype = (typeof datatypes)[number];

export type NumericDatatype = Exclude<Datatype, 'BYTES'>;

export type TypedElements =
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Float32Array
  | Float64Array;

/** A tensor's flat, row-major elements. */
export type TensorElements = TypedElements | string[];

const datatypeSet: ReadonlySet<string> = new Set(datatypes);

export function isDatatype(value: string): value is Datatype {
  return datatypeSet.has(value);
}

/** Bytes per element in the raw (little-endian) encoding; BYTES elements have no fixed size. */
export function elementSize(datatype: NumericDatatype): number {
  switch (datatype) {
    case 'BOOL':
    case 'UINT8':
    case 'INT8':
      return 1;
    case 'UINT16':
    case 'INT16':
    case 'FP16':
      return 2;
    case 'UINT32':
    case 'INT32':
    case 'FP32':
      return 4;
    case 'UINT64':
    case 'INT64':
    case 'FP64':
      return 8;
    default: {
      const unreachable: never = datatype;
      throw new Error(`unknown datatype ${String(unreachable)}`);
    }
  }
}

type TypedArrayConstructor =
  | Uint8ArrayConstructor
  | Uint16ArrayConstructor
  | Uint32ArrayConstructor
  | BigUint64ArrayConstructor
  | Int8ArrayConstructor
  | Int16ArrayConstructor
  | Int32ArrayConstructor
  | BigInt64ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor;

/** The typed array that holds a numeric datatype's elements. */
export function typedArrayOf(datatype: NumericDatatype): TypedArrayConstructor {
  switch (datatype) {
    case 'BOOL':
    case 'UINT8':
      return Uint8Array;
    case 'UINT16':
    case 'FP16':
      return Uint16Array;
    case 'UINT32':
      return Uint32Array;
    case 'UINT64':
      return BigUint64Array;
    case 'INT8':
      return Int8Array;
    case 'INT16':
      return Int16Array;
    case 'INT32':
      return Int32Array;
    case 'INT64':
      return BigInt64Array;
    case 'FP32':
      return Float32Array;
    case 'FP64':
      return Float64Array;
    default: {
      const unreachable: never = datatype;
      throw new Error(`unknown datatype ${String(unreachable)}`);
    }
  }
}

/** A zero-filled element array of `count` elements: the warm-up input of a model. */
export function zeroElements(datatype: Datatype, count: number): TensorElements {
  if (datatype === 'BYTES') return new Array<string>(count).fill('');
  const Typed = typedArrayOf(datatype);
  return new Typed(count);
}

/** Product of the dimensions: the number of elements of a tensor of this shape. */
export function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const dim of shape) count *= dim;
  return count;
}

/** `[1, -1, 3]`, as messages show shapes. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
