import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '@loopline/errors';
import { decodeInputs, type InputTensorRequest } from './decode-inputs';
import type { TensorSpec } from './tensor';

const features: TensorSpec = { name: 'features', datatype: 'FP32', shape: [-1, 2] };
const json = (name: string, datatype: string, shape: number[], data: unknown): InputTensorRequest => ({ name, datatype, shape, payload: { kind: 'json', data } });
const rejects = (expected: readonly TensorSpec[], received: InputTensorRequest[], message: RegExp) =>
  assert.throws(() => decodeInputs(expected, received), (error: unknown) => error instanceof ValidationError && message.test(error.message));

describe('decodeInputs', () => {
  describe('when the request matches the model', () => {
    it('decodes nested and flat JSON data row-major into the datatype', () => {
      const [nested] = decodeInputs([features], [json('features', 'FP32', [2, 2], [[1, 2], [3, 4]])]);
      const [flat] = decodeInputs([features], [json('features', 'FP32', [2, 2], [1, 2, 3, 4])]);
      assert.deepEqual(Array.from(nested.data as Float32Array), [1, 2, 3, 4]);
      assert.deepEqual(nested, flat);
      assert.ok(nested.data instanceof Float32Array);
    });

    it('decodes raw little-endian bytes, and BYTES with 4-byte length prefixes', () => {
      const bytes = new Uint8Array(new Float32Array([1.5, -2]).buffer);
      const [tensor] = decodeInputs([features], [{ name: 'features', datatype: 'FP32', shape: [1, 2], payload: { kind: 'raw', bytes } }]);
      assert.deepEqual(Array.from(tensor.data as Float32Array), [1.5, -2]);
      const raw = Buffer.concat([Buffer.from([2, 0, 0, 0]), Buffer.from('hi'), Buffer.from([0, 0, 0, 0])]);
      const [text] = decodeInputs([{ name: 's', datatype: 'BYTES', shape: [-1] }], [{ name: 's', datatype: 'BYTES', shape: [2], payload: { kind: 'raw', bytes: raw } }]);
      assert.deepEqual(text.data, ['hi', '']);
    });

    it('returns the inputs in the model order whatever the request order', () => {
      const model: TensorSpec[] = [{ name: 'a', datatype: 'INT64', shape: [1] }, { name: 'b', datatype: 'BOOL', shape: [1] }];
      const decoded = decodeInputs(model, [json('b', 'BOOL', [1], [true]), json('a', 'INT64', [1], ['9007199254740993'])]);
      assert.deepEqual(decoded.map((tensor) => tensor.name), ['a', 'b']);
      assert.equal((decoded[0].data as BigInt64Array)[0], 9007199254740993n);
      assert.equal((decoded[1].data as Uint8Array)[0], 1);
    });
  });

  describe('when the request is wrong', () => {
    it('names a missing input and what the model expects', () => rejects([features], [], /missing input 'features': the model's inputs are 'features'/));
    it('names an unexpected input', () => rejects([features], [json('features', 'FP32', [1, 2], [1, 2]), json('extra', 'FP32', [1], [1])], /unexpected input 'extra'/));
    it('names a duplicate input', () => rejects([features], [json('features', 'FP32', [1, 2], [1, 2]), json('features', 'FP32', [1, 2], [1, 2])], /input 'features' appears more than once/));
    it('names the expected and received datatype', () => rejects([features], [json('features', 'INT64', [1, 2], [1, 2])], /input 'features': expected datatype FP32, received INT64/));
    it('says when a datatype is not a protocol datatype', () => rejects([features], [json('features', 'FLOAT32', [1, 2], [1, 2])], /received FLOAT32 \(not an Open Inference Protocol datatype\)/));
    it('names the expected and received shape and the wrong dimension', () => rejects([features], [json('features', 'FP32', [1, 3], [1, 2, 3])], /expected shape \[-1, 2\], received \[1, 3\]: dimension 1 must be 2/));
    it('names a rank mismatch', () => rejects([features], [json('features', 'FP32', [2], [1, 2])], /expected shape \[-1, 2\] \(rank 2\), received \[2\] \(rank 1\)/));
    it('refuses negative dimensions', () => rejects([features], [json('features', 'FP32', [-1, 2], [1, 2])], /invalid shape \[-1, 2\]: dimensions must be non-negative integers/));
    it('refuses a huge shape before allocating anything', () => rejects([features], [json('features', 'FP32', [2 ** 40, 2], [1, 2])], /holds 2199023255552 elements, more than the/));
    it('compares the element count with the shape', () => rejects([features], [json('features', 'FP32', [2, 2], [1, 2, 3])], /shape \[2, 2\] holds 4 elements, received 3 in 'data'/));
    it('names a wrongly typed element', () => rejects([features], [json('features', 'FP32', [1, 2], [1, 'x'])], /element 1 is "x", expected a number \(FP32\)/));
    it('checks integer ranges', () => rejects([{ name: 'i', datatype: 'INT8', shape: [1] }], [json('i', 'INT8', [1], [300])], /element 0 is 300, expected an integer in \[-128, 127\] \(INT8\)/));
    it('compares raw byte lengths with the shape', () =>
      rejects([features], [{ name: 'features', datatype: 'FP32', shape: [1, 2], payload: { kind: 'raw', bytes: new Uint8Array(7) } }], /holds 2 FP32 elements \(8 bytes\), received 7 bytes/));
    it('refuses data that is not an array', () => rejects([features], [json('features', 'FP32', [1, 2], 'abc')], /'data' must be an array of elements, received "abc"/));
  });
});
