import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { batchKey, splitOutputs, stackInputs } from './batch';
import type { Tensor } from './tensor';

const rows = (values: number[][]): Tensor => ({ name: 'x', datatype: 'FP32', shape: [values.length, values[0].length], data: new Float32Array(values.flat()) });

describe('dynamic batching', () => {
  it('stacks requests row-wise and cuts the outputs back per request', () => {
    const stacked = stackInputs([[rows([[1, 2]])], [rows([[3, 4], [5, 6]])]]);
    assert.deepEqual(stacked[0].shape, [3, 2]);
    assert.deepEqual(Array.from(stacked[0].data as Float32Array), [1, 2, 3, 4, 5, 6]);
    const split = splitOutputs([{ name: 'y', datatype: 'INT64', shape: [3], data: new BigInt64Array([7n, 8n, 9n]) }], [1, 2])!;
    assert.deepEqual(split.map((outputs) => outputs[0].shape), [[1], [2]]);
    assert.deepEqual(Array.from(split[1][0].data as BigInt64Array), [8n, 9n]);
  });

  it('refuses to split outputs whose first dimension is not the row count', () => {
    assert.equal(splitOutputs([{ name: 'total', datatype: 'FP32', shape: [1], data: new Float32Array([1]) }], [1, 2]), undefined);
  });

  it('keys requests by their non-batch dimensions', () => {
    assert.equal(batchKey([rows([[1, 2]])]), batchKey([rows([[1, 2], [3, 4]])]));
    assert.notEqual(batchKey([rows([[1, 2]])]), batchKey([rows([[1, 2, 3]])]));
  });
});
