import type { TensorElements, TypedElements } from './datatype';
import type { Tensor } from './tensor';

/**
 * Dynamic batching, the pure part: requests whose inputs agree on every dimension but the first
 * are stacked row-wise into one run, and each output is cut back into the requests' rows.
 */

/** Requests with equal keys can share a run: the non-batch dimensions of every input. */
export function batchKey(inputs: readonly Tensor[]): string {
  let key = '';
  for (const input of inputs) key += `${input.shape.slice(1).join('x')};`;
  return key;
}

export function rowsOf(inputs: readonly Tensor[]): number {
  return inputs[0]?.shape[0] ?? 0;
}

/** Stacks the requests' inputs (each in model input order) along the first dimension. */
export function stackInputs(requests: readonly (readonly Tensor[])[]): Tensor[] {
  if (requests.length === 1) return [...requests[0]];
  const first = requests[0];
  return first.map((template, position) => {
    const parts = requests.map((inputs) => inputs[position]);
    const rows = parts.reduce((sum, part) => sum + part.shape[0], 0);
    return { name: template.name, datatype: template.datatype, shape: [rows, ...template.shape.slice(1)], data: concat(parts.map((part) => part.data)) };
  });
}

function concat(parts: readonly TensorElements[]): TensorElements {
  const first = parts[0];
  if (Array.isArray(first)) return (parts as string[][]).flat();
  const typed = parts as TypedElements[];
  const length = typed.reduce((sum, part) => sum + part.length, 0);
  const Typed = (first as TypedElements).constructor as new (length: number) => TypedElements;
  const out = new Typed(length);
  let offset = 0;
  for (const part of typed) {
    (out as Float32Array).set(part as Float32Array, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Cuts stacked outputs back into per-request outputs; `rows[i]` is request i's row count. Returns
 * undefined when an output's first dimension is not the total row count (the model does not keep
 * rows independent, so batching must not be used for it).
 */
export function splitOutputs(outputs: readonly Tensor[], rows: readonly number[]): Tensor[][] | undefined {
  const total = rows.reduce((sum, count) => sum + count, 0);
  if (outputs.some((output) => output.shape.length === 0 || output.shape[0] !== total)) return undefined;
  const result: Tensor[][] = rows.map(() => []);
  for (const output of outputs) {
    const rowSize = output.shape.slice(1).reduce((product, dim) => product * dim, 1);
    let row = 0;
    rows.forEach((count, index) => {
      const start = row * rowSize;
      const end = (row + count) * rowSize;
      const data = Array.isArray(output.data) ? output.data.slice(start, end) : (output.data as Float32Array).subarray(start, end);
      result[index].push({ name: output.name, datatype: output.datatype, shape: [count, ...output.shape.slice(1)], data });
      row += count;
    });
  }
  return result;
}
