import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromProtoStruct, fromProtoValue, toProtoStruct, toProtoValue, type ProtoValue } from './grpc-values';

describe('grpc-values', () => {
  describe('when reading what proto-loader decoded', () => {
    it('takes the member that kind names', () => {
      assert.equal(fromProtoValue({ kind: 'numberValue', numberValue: 1.5 }), 1.5);
      assert.equal(fromProtoValue({ kind: 'stringValue', stringValue: 'ORD' }), 'ORD');
      assert.equal(fromProtoValue({ kind: 'boolValue', boolValue: false }), false);
      assert.equal(fromProtoValue({ kind: 'nullValue', nullValue: 'NULL_VALUE' }), null);
    });

    it('reads nested structs and lists', () => {
      const value: ProtoValue = {
        kind: 'structValue',
        structValue: {
          fields: {
            route: { kind: 'listValue', listValue: { values: [{ kind: 'stringValue', stringValue: 'ORD' }, { kind: 'numberValue', numberValue: 2 }] } },
            empty: { kind: 'structValue', structValue: {} },
          },
        },
      };
      assert.deepEqual(fromProtoValue(value), { route: ['ORD', 2], empty: {} });
    });

    it('reads a missing value as null and a missing struct as an empty object', () => {
      assert.equal(fromProtoValue(undefined), null);
      assert.equal(fromProtoValue(null), null);
      assert.equal(fromProtoValue({}), null);
      assert.deepEqual(fromProtoStruct(null), {});
      assert.deepEqual(fromProtoStruct({ fields: { delay: { kind: 'numberValue', numberValue: 16 } } }), { delay: 16 });
    });

    it('ignores members that kind does not name', () => {
      assert.equal(fromProtoValue({ kind: 'stringValue', stringValue: 'a', numberValue: 3 }), 'a');
    });
  });

  describe('when a value was built without kind', () => {
    it('takes the member that is set', () => {
      assert.equal(fromProtoValue({ numberValue: 0 }), 0);
      assert.equal(fromProtoValue({ stringValue: '' }), '');
      assert.equal(fromProtoValue({ boolValue: true }), true);
      assert.deepEqual(fromProtoValue({ listValue: { values: [{ numberValue: 1 }] } }), [1]);
      assert.deepEqual(fromProtoValue({ structValue: { fields: { a: { boolValue: false } } } }), { a: false });
    });
  });

  describe('when writing values', () => {
    it('writes JSON data as Values and round-trips it', () => {
      const data = { name: 'flight-delay', version: 3, live: true, note: null, tags: ['a', 1], nested: { auc: 0.71 } };
      assert.deepEqual(toProtoValue(data), {
        structValue: {
          fields: {
            name: { stringValue: 'flight-delay' },
            version: { numberValue: 3 },
            live: { boolValue: true },
            note: { nullValue: 'NULL_VALUE' },
            tags: { listValue: { values: [{ stringValue: 'a' }, { numberValue: 1 }] } },
            nested: { structValue: { fields: { auc: { numberValue: 0.71 } } } },
          },
        },
      });
      assert.deepEqual(fromProtoStruct(toProtoStruct(data)), data);
    });

    it('writes undefined, NaN and infinities as null, other primitives as strings', () => {
      assert.deepEqual(toProtoValue(undefined), { nullValue: 'NULL_VALUE' });
      assert.deepEqual(toProtoValue(Number.NaN), { nullValue: 'NULL_VALUE' });
      assert.deepEqual(toProtoValue(Number.NEGATIVE_INFINITY), { nullValue: 'NULL_VALUE' });
      assert.deepEqual(toProtoValue(10n), { stringValue: '10' });
    });

    it('writes anything but an object as an empty struct', () => {
      assert.deepEqual(toProtoStruct(undefined), { fields: {} });
      assert.deepEqual(toProtoStruct(null), { fields: {} });
      assert.deepEqual(toProtoStruct([1, 2]), { fields: {} });
      assert.deepEqual(toProtoStruct('text'), { fields: {} });
    });
  });
});
