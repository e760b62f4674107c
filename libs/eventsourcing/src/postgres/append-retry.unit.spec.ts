import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyRetry, type StoredEventLocation } from './append-retry';

const ids = ['a', 'b', 'c'];
function stored(streamId: string, firstPosition: number, eventIds: readonly string[]): StoredEventLocation[] {
  return eventIds.map((eventId, index) => ({ eventId, streamId, streamPosition: firstPosition + index, globalPosition: 100 + index }));
}

describe('classifyRetry', () => {
  describe('when every id is stored in order where the append would have put it', () => {
    it('is a replay returning the stored positions', () => {
      const result = classifyRetry('s-1', ids, stored('s-1', 4, ids), 3);
      assert.deepEqual(result, {
        kind: 'replay',
        positions: [
          { eventId: 'a', streamPosition: 4, globalPosition: 100 },
          { eventId: 'b', streamPosition: 5, globalPosition: 101 },
          { eventId: 'c', streamPosition: 6, globalPosition: 102 },
        ],
      });
    });

    it('treats no_stream as expected version 0', () => {
      assert.equal(classifyRetry('s-1', ids, stored('s-1', 1, ids), 'no_stream').kind, 'replay');
    });

    it('accepts any contiguous run when the expected version is any', () => {
      assert.equal(classifyRetry('s-1', ids, stored('s-1', 42, ids), 'any').kind, 'replay');
    });
  });

  describe('when the ids are stored at other positions', () => {
    it('is a conflict on the expected version, not a replay', () => {
      assert.deepEqual(classifyRetry('s-1', ids, stored('s-1', 1, ids), 3), { kind: 'misplaced', firstStoredPosition: 1 });
    });
  });

  describe('when none of the ids is stored', () => {
    it('is a plain conflict', () => {
      assert.deepEqual(classifyRetry('s-1', ids, [], 3), { kind: 'conflict' });
    });
  });

  describe('when only some ids are stored', () => {
    it('is a partial overlap naming both sets', () => {
      assert.deepEqual(classifyRetry('s-1', ids, stored('s-1', 4, ['a', 'b']), 3), { kind: 'partial', alreadyAppended: ['a', 'b'], notAppended: ['c'] });
    });

    it('is a partial overlap when the stored ids are out of order', () => {
      const reordered = [...stored('s-1', 4, ['b']), ...stored('s-1', 5, ['a']), ...stored('s-1', 6, ['c'])];
      assert.equal(classifyRetry('s-1', ids, reordered, 3).kind, 'partial');
    });
  });

  describe('when an id is stored in another stream', () => {
    it('is an id collision naming the other stream', () => {
      assert.deepEqual(classifyRetry('s-1', ids, stored('s-2', 1, ['b']), 3), { kind: 'foreign', eventId: 'b', otherStreamId: 's-2' });
    });
  });
});
