import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { entityKeyOf, lookUpValue } from './online-values';

describe('OnlineValues', () => {
  const row = { eventTimeMs: 1_000_000, values: { a: 1, b: null } };
  it('gives each value its status', () => {
    assert.deepEqual(lookUpValue(row, 'a', 60, 1_000_000 + 60_000), { value: 1, status: 'PRESENT', eventTimeMs: 1_000_000 });
    assert.deepEqual(lookUpValue(row, 'a', 60, 1_000_000 + 60_001), { value: null, status: 'OUTSIDE_TTL', eventTimeMs: 1_000_000 });
    assert.deepEqual(lookUpValue(row, 'b', null, 9e12), { value: null, status: 'NULL_VALUE', eventTimeMs: 1_000_000 });
    assert.deepEqual(lookUpValue(undefined, 'a', 60, 0), { value: null, status: 'NOT_FOUND', eventTimeMs: null });
  });

  it('keys entities so that no separator collides', () => {
    assert.notEqual(entityKeyOf(['a|b', 'c']), entityKeyOf(['a', 'b|c']));
    assert.equal(entityKeyOf([12, 'x']), entityKeyOf(['12', 'x']));
  });
});
