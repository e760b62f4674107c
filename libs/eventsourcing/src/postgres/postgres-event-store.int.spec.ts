import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ConcurrencyError, ValidationError } from '@loopline/errors';
import { Pool } from 'pg';
import { createTestDatabase } from '@loopline/testing';
import { createStoreFixture, incremented, type CounterEvent, type StoreFixture } from '../../test/fixtures';
import type { Decider } from '../decider/decider';
import { PostgresEventStore } from './postgres-event-store';

// Real PostgreSQL (one database for this file, one stream name per test); no mocks.
const counter: Decider<never, { total: number; resets: number }, CounterEvent> = {
  initialState: () => ({ total: 0, resets: 0 }),
  decide: () => [],
  evolve: (state, event) => {
    switch (event.type) {
      case 'Incremented':
        return { ...state, total: state.total + event.data.by };
      case 'Reset':
        return { total: 0, resets: state.resets + 1 };
      default: {
        const unreachable: never = event;
        throw new Error(`unknown event ${JSON.stringify(unreachable)}`);
      }
    }
  },
};

function streamName(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

describe('PostgresEventStore', () => {
  let fixture: StoreFixture;
  before(async () => {
    fixture = await createStoreFixture(await createTestDatabase('es_store'), { poolSize: 24 });
  });
  after(() => fixture.close());

  describe('when twenty writers append at the same expected version', () => {
    it('lets exactly one win and gives every other a ConcurrencyError with expected and actual versions', async () => {
      const { store } = fixture;
      const streamId = streamName('race');
      await store.appendToStream(streamId, [incremented(0)], { expectedVersion: 'no_stream' });
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, (_, writer) => store.appendToStream(streamId, [incremented(writer + 1), incremented(writer + 1)], { expectedVersion: 1 })),
      );
      const winners = outcomes.filter((outcome) => outcome.status === 'fulfilled');
      const losers = outcomes.filter((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
      assert.equal(winners.length, 1);
      assert.equal(losers.length, 19);
      for (const loser of losers) {
        assert.ok(loser.reason instanceof ConcurrencyError, `unexpected ${String(loser.reason)}`);
        assert.deepEqual(loser.reason.details, { streamId, expected: 1, actual: 3 });
      }
      const { events, version } = await store.readStream(streamId);
      assert.equal(version, 3);
      assert.deepEqual(events.map((event) => event.streamPosition), [1, 2, 3]);
    });
  });

  describe('when many read-then-append writers race on one stream', () => {
    it('keeps stream positions contiguous from 1 with no gap or duplicate, and classifies every failure', async () => {
      const { store } = fixture;
      const streamId = streamName('contended');
      let successes = 0;
      let conflicts = 0;
      const writer = async (id: number) => {
        for (let attempt = 0; attempt < 25; attempt += 1) {
          const { version } = await store.readStream(streamId, { maxCount: 0 });
          try {
            await store.appendToStream(streamId, [incremented(id * 1000 + attempt)], { expectedVersion: version });
            successes += 1;
          } catch (error) {
            if (!(error instanceof ConcurrencyError)) throw error;
            conflicts += 1;
          }
        }
      };
      await Promise.all(Array.from({ length: 12 }, (_, id) => writer(id)));
      const { events, version } = await store.readStream(streamId);
      assert.equal(successes + conflicts, 300);
      assert.ok(conflicts > 0, 'the writers never collided: the test did not exercise the race');
      assert.equal(version, successes);
      assert.deepEqual(
        events.map((event) => event.streamPosition),
        Array.from({ length: successes }, (_, index) => index + 1),
      );
      assert.equal(new Set(events.map((event) => event.eventId)).size, successes);
      const globals = events.map((event) => event.globalPosition);
      assert.deepEqual([...globals].sort((a, b) => a - b), globals, 'global positions follow stream positions within a stream');
    });
  });

  describe('when an append is retried with the same event ids and expected version', () => {
    it('is a no-op that returns the original positions', async () => {
      const { store } = fixture;
      const streamId = streamName('retry');
      await store.appendToStream(streamId, [incremented(1)], { expectedVersion: 'no_stream' });
      const batch = [incremented(2), incremented(3)];
      const first = await store.appendToStream(streamId, batch, { expectedVersion: 1 });
      await store.appendToStream(streamId, [incremented(4)], { expectedVersion: 3 }); // the stream moves on meanwhile
      const retry = await store.appendToStream(streamId, batch, { expectedVersion: 1 });
      assert.equal(first.replayed, false);
      assert.equal(retry.replayed, true);
      assert.deepEqual(retry.positions, first.positions);
      assert.equal(retry.nextExpectedVersion, 3);
      assert.equal((await store.readStream(streamId)).events.length, 4);
    });

    it('is a no-op for a new stream created with no_stream, outbox rows included', async () => {
      const { store, pool } = fixture;
      const streamId = streamName('retry-new');
      const batch = [incremented(1)];
      const outbox = [{ topic: 't', key: streamId, value: 'v' }];
      const first = await store.appendToStream(streamId, batch, { expectedVersion: 'no_stream', outbox });
      const retry = await store.appendToStream(streamId, batch, { expectedVersion: 'no_stream', outbox });
      assert.deepEqual(retry.positions, first.positions);
      const { rows } = await pool.query('SELECT count(*)::int AS n FROM outbox WHERE event_id = $1', [batch[0]!.eventId]);
      assert.equal(rows[0].n, 1, 'the retry wrote a second outbox row');
    });

    it('is a no-op with expected version any when the ids are stored in order', async () => {
      const { store } = fixture;
      const streamId = streamName('retry-any');
      const batch = [incremented(1), incremented(2)];
      const first = await store.appendToStream(streamId, batch, { expectedVersion: 'any' });
      const retry = await store.appendToStream(streamId, batch, { expectedVersion: 'any' });
      assert.deepEqual(retry.positions, first.positions);
      assert.equal((await store.readStream(streamId)).version, 2);
    });

    it('accepts upper-case ids as the same ids', async () => {
      const { store } = fixture;
      const streamId = streamName('retry-case');
      const event = incremented(1);
      const first = await store.appendToStream(streamId, [event], { expectedVersion: 0 });
      const retry = await store.appendToStream(streamId, [{ ...event, eventId: event.eventId.toUpperCase() }], { expectedVersion: 0 });
      assert.equal(retry.replayed, true);
      assert.deepEqual(retry.positions, first.positions);
    });
  });

  describe('when a retry reuses only some of the event ids', () => {
    it('is rejected as a ValidationError naming the ids already appended', async () => {
      const { store } = fixture;
      const streamId = streamName('partial');
      const stored = incremented(1);
      await store.appendToStream(streamId, [stored], { expectedVersion: 'no_stream' });
      const fresh = incremented(2);
      await assert.rejects(store.appendToStream(streamId, [stored, fresh], { expectedVersion: 'no_stream' }), (error: unknown) => {
        assert.ok(error instanceof ValidationError);
        assert.deepEqual(error.details, { streamId, alreadyAppended: [stored.eventId], notAppended: [fresh.eventId] });
        return true;
      });
      assert.equal((await store.readStream(streamId)).version, 1);
    });
  });

  describe('when stored ids are re-sent at another expected version', () => {
    it('is a ConcurrencyError, not a replay', async () => {
      const { store } = fixture;
      const streamId = streamName('misplaced');
      const batch = [incremented(1)];
      await store.appendToStream(streamId, batch, { expectedVersion: 'no_stream' });
      await assert.rejects(store.appendToStream(streamId, batch, { expectedVersion: 1 }), ConcurrencyError);
      // With 'any' there is no position to compare: the stored run counts as a replay and nothing is written.
      const replay = await store.appendToStream(streamId, batch, { expectedVersion: 'any' });
      assert.equal(replay.replayed, true);
      assert.equal((await store.readStream(streamId)).version, 1);
    });
  });

  describe('when an event id is already used by another stream', () => {
    it('is a ValidationError naming the other stream', async () => {
      const { store } = fixture;
      const first = streamName('owner');
      const event = incremented(1);
      await store.appendToStream(first, [event], { expectedVersion: 'no_stream' });
      await assert.rejects(store.appendToStream(streamName('thief'), [event], { expectedVersion: 'no_stream' }), (error: unknown) => {
        assert.ok(error instanceof ValidationError);
        assert.equal(error.details.otherStreamId, first);
        return true;
      });
    });
  });

  describe('when the expected version is no_stream', () => {
    it('fails if the stream exists', async () => {
      const { store } = fixture;
      const streamId = streamName('exists');
      await store.appendToStream(streamId, [incremented(1)], { expectedVersion: 'no_stream' });
      await assert.rejects(store.appendToStream(streamId, [incremented(2)], { expectedVersion: 'no_stream' }), (error: unknown) => {
        assert.ok(error instanceof ConcurrencyError);
        assert.deepEqual(error.details, { streamId, expected: 0, actual: 1 });
        return true;
      });
    });
  });

  describe('when the input is malformed', () => {
    it('refuses empty appends, non-UUID ids, repeated ids and negative versions', async () => {
      const { store } = fixture;
      const streamId = streamName('bad');
      const event = incremented(1);
      await assert.rejects(store.appendToStream(streamId, [], { expectedVersion: 'any' }), ValidationError);
      await assert.rejects(store.appendToStream(streamId, [{ ...event, eventId: 'not-a-uuid' }], { expectedVersion: 'any' }), ValidationError);
      await assert.rejects(store.appendToStream(streamId, [event, event], { expectedVersion: 'any' }), ValidationError);
      await assert.rejects(store.appendToStream(streamId, [event], { expectedVersion: -1 }), ValidationError);
      await assert.rejects(store.appendToStream(streamId, [event], { expectedVersion: 'any', outbox: [{ topic: 't', key: null, value: 'a' }, { topic: 't', key: null, value: 'b' }] }), ValidationError);
      assert.equal((await store.readStream(streamId)).streamExists, false);
    });
  });

  describe('when reading a stream', () => {
    it('returns the events after fromVersion, the current version, and stored metadata', async () => {
      const { store } = fixture;
      const streamId = streamName('read');
      await store.appendToStream(streamId, [incremented(1, 2), incremented(2, 3), { type: 'Reset', data: { seq: 3 }, eventId: randomUUID(), metadata: { time: '2025-01-02T00:00:00.000Z', actor: 'alice', correlationId: 'c', causationId: 'cmd-1' } }], { expectedVersion: 'no_stream' });
      const tail = await store.readStream<CounterEvent>(streamId, { fromVersion: 1 });
      assert.equal(tail.version, 3);
      assert.deepEqual(tail.events.map((event) => [event.streamPosition, event.type]), [[2, 'Incremented'], [3, 'Reset']]);
      assert.deepEqual(tail.events[1]!.metadata, { time: '2025-01-02T00:00:00.000Z', actor: 'alice', correlationId: 'c', causationId: 'cmd-1' });
      const beyond = await store.readStream(streamId, { fromVersion: 3 });
      assert.deepEqual({ exists: beyond.streamExists, version: beyond.version, events: beyond.events.length }, { exists: true, version: 3, events: 0 });
      const missing = await store.readStream(streamName('missing'));
      assert.deepEqual(missing, { streamExists: false, version: 0, events: [] });
    });

    it('folds the stream through a decider into state and version', async () => {
      const { store } = fixture;
      const streamId = streamName('aggregate');
      await store.appendToStream(streamId, [incremented(1, 5), { type: 'Reset', data: { seq: 2 }, eventId: randomUUID(), metadata: incremented(0).metadata }, incremented(3, 7)], { expectedVersion: 'no_stream' });
      assert.deepEqual(await store.aggregateStream(streamId, counter), { state: { total: 7, resets: 1 }, version: 3, streamExists: true });
      assert.deepEqual(await store.aggregateStream(streamName('none'), counter), { state: { total: 0, resets: 0 }, version: 0, streamExists: false });
    });
  });

  describe("when appending inside the caller's transaction", () => {
    it('writes nothing if the caller rolls back, and a conflict does not abort the transaction', async () => {
      const { store, pool } = fixture;
      const streamId = streamName('tx');
      await store.appendToStream(streamId, [incremented(1)], { expectedVersion: 'no_stream' });
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await assert.rejects(store.appendToStream(streamId, [incremented(2)], { expectedVersion: 0, transaction: client }), ConcurrencyError);
        const appended = await store.appendToStream(streamId, [incremented(2)], { expectedVersion: 1, transaction: client });
        assert.equal(appended.nextExpectedVersion, 2);
        await client.query('ROLLBACK');
      } finally {
        client.release();
      }
      assert.equal((await store.readStream(streamId)).version, 1);
    });
  });

  describe('when two services own schemas in one database', () => {
    it('keeps their streams apart and migrates idempotently, even concurrently', async () => {
      const pool = new Pool({ connectionString: fixture.url, max: 4 });
      try {
        const registry = new PostgresEventStore({ pool, schema: 'registry' });
        const serving = new PostgresEventStore({ pool, schema: 'serving' });
        await Promise.all([registry.migrate(), registry.migrate(), serving.migrate()]);
        await registry.migrate();
        await registry.appendToStream('model-1', [incremented(1)], { expectedVersion: 'no_stream' });
        assert.equal((await registry.readStream('model-1')).version, 1);
        assert.equal((await serving.readStream('model-1')).streamExists, false);
        assert.throws(() => new PostgresEventStore({ pool, schema: 'Bad"Schema' }), ValidationError);
      } finally {
        await pool.end();
      }
    });
  });
});
