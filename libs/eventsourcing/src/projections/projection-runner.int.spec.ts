import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createTestDatabase, eventually } from '@loopline/testing';
import { createStoreFixture, delay, incremented, newEvent, type CounterEvent, type StoreFixture } from '../../test/fixtures';
import type { RecordedEvent } from '../events/event';
import type { Projection } from './projection';
import { ProjectionRunner } from './projection-runner';

// Real PostgreSQL, a database per test.

interface CounterSummary {
  readonly total: number;
  readonly applied: number;
  readonly lastSeq: number;
}

/** One document per counter stream; a Reset deletes it. `applied` would double if an event were applied twice. */
function summaries(name: string, version = 1): Projection<CounterSummary> {
  return {
    name,
    version,
    evolve(document, event: RecordedEvent) {
      const counterEvent = event as RecordedEvent<CounterEvent>;
      switch (counterEvent.type) {
        case 'Incremented': {
          const current = document ?? { total: 0, applied: 0, lastSeq: 0 };
          return { total: current.total + counterEvent.data.by, applied: current.applied + 1, lastSeq: counterEvent.data.seq };
        }
        case 'Reset':
          return null;
        default: {
          const unreachable: never = counterEvent;
          throw new Error(`unknown event ${JSON.stringify(unreachable)}`);
        }
      }
    },
  };
}

/** The documents as a plain object, for deep equality. */
async function snapshot(runner: ProjectionRunner<CounterSummary>): Promise<Record<string, CounterSummary>> {
  return Object.fromEntries(await runner.readDocuments());
}

/** Ground truth computed from each stream directly, not through readAll. */
async function expectedSummaries(fixture: StoreFixture, streamIds: readonly string[]): Promise<Record<string, CounterSummary>> {
  const expected: Record<string, CounterSummary> = {};
  const projection = summaries('ground-truth');
  for (const streamId of streamIds) {
    let document: CounterSummary | null = null;
    for (const event of (await fixture.store.readStream(streamId)).events) document = projection.evolve(document, event);
    if (document) expected[streamId] = document;
  }
  return expected;
}

async function caughtUp(fixture: StoreFixture, runner: ProjectionRunner<CounterSummary>): Promise<void> {
  await eventually(async () => (await fixture.store.readAll({ after: await runner.checkpoint(), limit: 1 })).events.length === 0, { timeoutMs: 20_000, what: 'projection caught up' });
}

/** Six writers on three streams each, with random pauses before commit so commits land out of order. */
async function writeConcurrently(fixture: StoreFixture): Promise<string[]> {
  const streams: string[] = [];
  await Promise.all(
    Array.from({ length: 6 }, async (_, writer) => {
      const own = Array.from({ length: 3 }, (__, index) => `counter-${writer}-${index}-${randomUUID()}`);
      streams.push(...own);
      const versions = new Map(own.map((streamId) => [streamId, 0]));
      for (let seq = 1; seq <= 15; seq += 1) {
        const streamId = own[seq % own.length]!;
        const event = seq % 7 === 0 ? newEvent<CounterEvent>({ type: 'Reset', data: { seq } }) : incremented(seq, seq);
        const client = await fixture.pool.connect();
        try {
          await client.query('BEGIN');
          const appended = await fixture.store.appendToStream(streamId, [event], { expectedVersion: versions.get(streamId)!, transaction: client });
          await delay(Math.floor(Math.random() * 10));
          await client.query('COMMIT');
          versions.set(streamId, appended.nextExpectedVersion);
        } finally {
          client.release();
        }
      }
    }),
  );
  return streams;
}

describe('ProjectionRunner', () => {
  let fixture: StoreFixture;
  beforeEach(async () => {
    fixture = await createStoreFixture(await createTestDatabase('es_projection'), { poolSize: 12 });
  });
  afterEach(() => fixture.close());

  describe('when events are written while it runs, with a transaction held open meanwhile', () => {
    it('never passes the open transaction, matches the streams, and a rebuild by replay equals the live documents', async () => {
      const runner = new ProjectionRunner({ pool: fixture.pool, store: fixture.store, projection: summaries('counters'), batchSize: 20, pollIntervalMs: 10 });
      await runner.migrate();
      runner.start();
      const earlyStream = `early-${randomUUID()}`;
      const early = await fixture.store.appendToStream(earlyStream, [incremented(1, 5)], { expectedVersion: 'no_stream' });
      await eventually(async () => (await runner.checkpoint()) === early.positions[0]!.globalPosition, { what: 'the early event applied' });
      const straggler = await fixture.pool.connect();
      try {
        await straggler.query('BEGIN');
        const stragglerStream = `straggler-${randomUUID()}`;
        await fixture.store.appendToStream(stragglerStream, [incremented(1, 100)], { expectedVersion: 'no_stream', transaction: straggler });

        const streams = [earlyStream, ...(await writeConcurrently(fixture))];
        assert.equal(await runner.runOnce(), 0, 'events of transactions younger than the open one were readable');
        assert.deepEqual(Object.keys(await snapshot(runner)), [earlyStream]);

        await straggler.query('COMMIT');
        streams.push(stragglerStream);
        await caughtUp(fixture, runner);
        await runner.stop();
        const live = await snapshot(runner);
        assert.deepEqual(live, await expectedSummaries(fixture, streams), 'the live projection skipped or repeated an event');
        assert.ok(Object.keys(live).length > 10);

        await runner.rebuild();
        assert.deepEqual(await snapshot(runner), {}, 'rebuild clears the documents');
        assert.equal(await runner.checkpoint(), 0);
        const replayed = await runner.catchUp();
        assert.equal(replayed, 6 * 15 + 2);
        assert.deepEqual(await snapshot(runner), live);
      } finally {
        await straggler.query('ROLLBACK').catch(() => undefined);
        straggler.release();
        await runner.stop();
      }
    });
  });

  describe('when two runners process the same projection', () => {
    it('applies every event exactly once', async () => {
      const make = () => new ProjectionRunner({ pool: fixture.pool, store: fixture.store, projection: summaries('shared'), batchSize: 5, pollIntervalMs: 5 });
      const first = make();
      const second = make();
      await Promise.all([first.migrate(), second.migrate()]);
      first.start();
      second.start();
      try {
        const streams = await writeConcurrently(fixture);
        await caughtUp(fixture, first);
        assert.deepEqual(await snapshot(first), await expectedSummaries(fixture, streams));
      } finally {
        await Promise.all([first.stop(), second.stop()]);
      }
    });
  });

  describe('when the projection version is bumped', () => {
    it('replays from the start on migrate', async () => {
      const streamId = `counter-${randomUUID()}`;
      await fixture.store.appendToStream(streamId, [incremented(1, 2), incremented(2, 3)], { expectedVersion: 'no_stream' });
      const v1 = new ProjectionRunner({ pool: fixture.pool, store: fixture.store, projection: summaries('versioned', 1) });
      await v1.migrate();
      await v1.catchUp();
      // Version 2 counts double: only a replay can produce 10 from the stored events.
      const doubled: Projection<CounterSummary> = {
        ...summaries('versioned', 2),
        evolve: (document, event) => {
          const next = summaries('versioned').evolve(document, event);
          return next && { ...next, total: (document?.total ?? 0) + 2 * ((event.data as { by: number }).by ?? 0) };
        },
      };
      const v2 = new ProjectionRunner({ pool: fixture.pool, store: fixture.store, projection: doubled });
      await v2.migrate();
      assert.equal(await v2.checkpoint(), 0);
      await v2.catchUp();
      assert.deepEqual(await v2.readDocument(streamId), { total: 10, applied: 2, lastSeq: 2 });
    });
  });

  describe('when an event deletes a document and later events recreate it', () => {
    it('keeps the version growing through the deletion', async () => {
      const streamId = `counter-${randomUUID()}`;
      const runner = new ProjectionRunner({ pool: fixture.pool, store: fixture.store, projection: summaries('tombstones') });
      await runner.migrate();
      await fixture.store.appendToStream(streamId, [incremented(1), newEvent<CounterEvent>({ type: 'Reset', data: { seq: 2 } })], { expectedVersion: 'no_stream' });
      await runner.catchUp();
      assert.equal(await runner.readDocument(streamId), undefined);
      await fixture.store.appendToStream(streamId, [incremented(3, 4)], { expectedVersion: 2 });
      await runner.catchUp();
      assert.deepEqual(await runner.readDocument(streamId), { total: 4, applied: 1, lastSeq: 3 });
      const { rows } = await fixture.pool.query('SELECT version FROM projection_tombstones WHERE id = $1', [streamId]);
      assert.equal(Number(rows[0].version), 3);
    });
  });
});
