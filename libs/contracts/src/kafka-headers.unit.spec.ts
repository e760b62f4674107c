import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ContractError } from './contract-error';
import { normalizeKafkaHeaders } from './kafka-headers';

describe('normalizeKafkaHeaders', () => {
  it('turns Buffers, strings and lists into one string per lower-case name', () => {
    const headers = normalizeKafkaHeaders({
      ce_id: Buffer.from('a'),
      ce_type: 't',
      ce_source: [Buffer.from('/s'), '/s'],
      'Content-Type': 'application/json',
      ce_subject: undefined,
      ce_time: [],
    });
    assert.deepEqual(
      Object.fromEntries(headers),
      { ce_id: 'a', ce_type: 't', ce_source: '/s', 'content-type': 'application/json' },
    );
  });

  it('accepts no headers at all', () => {
    assert.equal(normalizeKafkaHeaders(undefined).size, 0);
  });

  it('refuses a header repeated with different values, also across spellings', () => {
    for (const headers of [{ ce_id: ['a', 'b'] }, { 'content-type': 'application/json', 'Content-Type': 'text/plain' }]) {
      assert.throws(
        () => normalizeKafkaHeaders(headers),
        (error: unknown) => error instanceof ContractError && error.code === 'INVALID_HEADER',
      );
    }
  });
});
