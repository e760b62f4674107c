import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ValidationError } from '@loopline/errors';
import type { PoolClient } from 'pg';
import { createTestDatabase } from '@loopline/testing';
import { createStoreFixture, incremented, type StoreFixture } from '../../test/fixtures';
import type { RecordedEvent } from '../events/event';

// Real PostgreSQL, a database per test: the horizon is cluster-wide, but each test only asserts
// on its own events.

/** Reads everything currently readable from `after`, in small pages, as a subscription would. */
async function drain(fixture: StoreFixture, after: number): Promise<{ events: RecordedEvent[]; checkpoint: number }> {
  const events: RecordedEvent[] = [];
  let checkpoint = after;
  for (;;) {
    const page = await fixture.store.readAll({ after: checkpoint, limit: 7 });
    if (page.events.length === 0) return { events, checkpoint };
    events.push(...page.events);
    checkpoint = page.checkpoint;
  }
}

async function openTransaction(fixture: StoreFixture): Promise<PoolClient> {
  const client = await fixture.pool.connect();
  await client.query('BEGIN');
  return client;
}

describe('PostgresEventStore.readAll', () => {
  let fixture: StoreFixture;
  beforeEach(async () => {
    fixture = await createStoreFixture(await createTestDatabase('es_read_all'), { poolSize: 12 });
  });
  afterEach(() => fixture.close());

  describe('when a transaction stays open while eight others append and commit', () => {
    it('returns nothing past its position until it commits, then everything: 0 skipped, 0 twice', async () => {
      const { store } = fixture;
      const before = await store.appendToStream(`early-${randomUUID()}`, [incremented(0)], { expectedVersion: 'no_stream' });
      const slow = await openTransaction(fixture);
      let slowPosition: number;
      const committed = new Set<string>(before.positions.map((position) => position.eventId));
      try {
        const slowAppend = await store.appendToStream(`slow-${randomUUID()}`, [incremented(1)], { expectedVersion: 'no_stream', transaction: slow });
        slowPosition = slowAppend.positions[0]!.globalPosition;
        await Promise.all(
          Array.from({ length: 8 }, async (_, writer) => {
            const streamId = `fast-${writer}-${randomUUID()}`;
            for (let index = 0; index < 25; index += 1) {
              const appended = await store.appendToStream(streamId, [incremented(index)], { expectedVersion: index });
              committed.add(appended.positions[0]!.eventId);
            }
          }),
        );
        const whileOpen = await drain(fixture, 0);
        assert.deepEqual(
          whileOpen.events.map((event) => event.eventId),
          before.positions.map((position) => position.eventId),
          'readAll returned events of transactions that started after the open one',
        );
        assert.ok(whileOpen.events.every((event) => event.globalPosition < slowPosition));

        await slow.query('COMMIT');
        committed.add(slowAppend.positions[0]!.eventId);
        const afterCommit = await drain(fixture, whileOpen.checkpoint);
        const seen = [...whileOpen.events, ...afterCommit.events].map((event) => event.eventId);
        assert.equal(seen.length, committed.size, 'an event was skipped or read twice');
        assert.deepEqual(new Set(seen), committed);
      } finally {
        await slow.query('ROLLBACK').catch(() => undefined);
        slow.release();
      }
    });
  });

  describe('when the transaction with the older xid takes the higher position', () => {
    it('still returns the late committer after the checkpoint passed its position', async () => {
      const { store, pool } = fixture;
      // xid order: early < late. Position order: late < early. The early one commits first.
      const early = await openTransaction(fixture);
      const late = await openTransaction(fixture);
      try {
        await early.query('SELECT pg_current_xact_id()'); // takes its xid now
        const lateAppend = await store.appendToStream(`late-${randomUUID()}`, [incremented(1)], { expectedVersion: 'no_stream', transaction: late });
        const earlyAppend = await store.appendToStream(`early-${randomUUID()}`, [incremented(2)], { expectedVersion: 'no_stream', transaction: early });
        const latePosition = lateAppend.positions[0]!.globalPosition;
        const earlyPosition = earlyAppend.positions[0]!.globalPosition;
        assert.ok(latePosition < earlyPosition, 'setup: the late transaction must hold the lower position');
        await early.query('COMMIT');

        const first = await drain(fixture, 0);
        assert.deepEqual(first.events.map((event) => event.globalPosition), [earlyPosition]);
        assert.equal(first.checkpoint, earlyPosition);

        // Negative control: a reader resuming by position alone never sees the late event.
        await late.query('COMMIT');
        const naive = await pool.query('SELECT event_id FROM events WHERE global_position > $1 AND transaction_id < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY global_position', [first.checkpoint]);
        assert.equal(naive.rowCount, 0, 'the position-only reader unexpectedly saw the late event: the control is broken');

        const second = await drain(fixture, first.checkpoint);
        assert.deepEqual(second.events.map((event) => event.globalPosition), [latePosition]);
      } finally {
        for (const client of [early, late]) {
          await client.query('ROLLBACK').catch(() => undefined);
          client.release();
        }
      }
    });
  });

  describe('when resuming from a position that is not an event', () => {
    it('refuses instead of restarting from the beginning', async () => {
      await fixture.store.appendToStream(`s-${randomUUID()}`, [incremented(1)], { expectedVersion: 'no_stream' });
      await assert.rejects(fixture.store.readAll({ after: 999_999, limit: 10 }), ValidationError);
    });
  });

  describe('when the store is empty', () => {
    it('returns no events and keeps the checkpoint', async () => {
      assert.deepEqual(await fixture.store.readAll({ after: 0, limit: 10 }), { events: [], checkpoint: 0 });
    });
  });
});
