import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ConcurrencyError, IllegalStateError } from '@loopline/errors';
import { createTestDatabase } from '@loopline/testing';
import { createStoreFixture, incremented, type CounterEvent, type StoreFixture } from '../../test/fixtures';
import type { Decider } from '../decider/decider';
import type { EventStore } from '../events/event-store';
import { handleCommand, type CommandMetadata } from './handle-command';

// Real PostgreSQL; conflicts are real appends made by a competing writer at the worst moment.
type CounterCommand = { type: 'Increment'; data: { by: number; max: number } };
type CounterState = { total: number; version: number };

const counter: Decider<CounterCommand, CounterState, CounterEvent> = {
  initialState: () => ({ total: 0, version: 0 }),
  decide: (command, state) => {
    if (command.data.by === 0) return [];
    if (state.total + command.data.by > command.data.max) throw new IllegalStateError('over the maximum', { total: state.total });
    return [{ type: 'Incremented', data: { by: command.data.by, seq: state.version + 1 } }];
  },
  evolve: (state, event) => (event.type === 'Incremented' ? { total: state.total + event.data.by, version: state.version + 1 } : { total: 0, version: state.version + 1 }),
};

const metadata: CommandMetadata = { commandId: 'command-1', time: new Date('2025-03-01T10:00:00Z'), actor: 'alice', correlationId: 'flow-1' };

/** The real store, with a competing writer that appends between our load and our append, `times` times. */
function contendedStore(store: EventStore, times: number): EventStore & { appends: number } {
  let interferences = 0;
  const contended = {
    appends: 0,
    readStream: store.readStream.bind(store),
    aggregateStream: store.aggregateStream.bind(store),
    appendToStream: (async (streamId, events, options) => {
      contended.appends += 1;
      if (interferences < times) {
        interferences += 1;
        await store.appendToStream(streamId, [incremented(1000 + interferences)], { expectedVersion: 'any' });
      }
      return store.appendToStream(streamId, events, options);
    }) as EventStore['appendToStream'],
  };
  return contended;
}

describe('handleCommand', () => {
  let fixture: StoreFixture;
  before(async () => {
    fixture = await createStoreFixture(await createTestDatabase('es_command'));
  });
  after(() => fixture.close());

  describe('when nobody else writes', () => {
    it('loads, decides and appends at the loaded version, with the command metadata on the events', async () => {
      const streamId = `counter-${randomUUID()}`;
      const command: CounterCommand = { type: 'Increment', data: { by: 2, max: 10 } };
      const first = await handleCommand({ store: fixture.store, decider: counter, streamId, command, metadata });
      const second = await handleCommand({ store: fixture.store, decider: counter, streamId, command, metadata });
      assert.deepEqual([first.version, second.version, second.state.total, second.attempts], [1, 2, 4, 1]);
      const { events } = await fixture.store.readStream(streamId);
      assert.deepEqual(events[0]!.metadata, { time: '2025-03-01T10:00:00.000Z', actor: 'alice', correlationId: 'flow-1', causationId: 'command-1' });
    });

    it('appends nothing when the decider decides nothing', async () => {
      const streamId = `counter-${randomUUID()}`;
      const result = await handleCommand({ store: fixture.store, decider: counter, streamId, command: { type: 'Increment', data: { by: 0, max: 10 } }, metadata });
      assert.deepEqual([result.events.length, result.version], [0, 0]);
      assert.equal((await fixture.store.readStream(streamId)).streamExists, false);
    });

    it('writes the outbox messages with the events', async () => {
      const streamId = `counter-${randomUUID()}`;
      const result = await handleCommand({
        store: fixture.store,
        decider: counter,
        streamId,
        command: { type: 'Increment', data: { by: 3, max: 10 } },
        metadata,
        outbox: (events, state) => events.map((event) => ({ topic: 'loopline.test.counters.v1', key: streamId, value: JSON.stringify({ total: state.total, id: event.eventId }) })),
      });
      const { rows } = await fixture.pool.query('SELECT event_id, value FROM outbox WHERE key = $1', [streamId]);
      assert.deepEqual(rows.map((row) => [row.event_id, JSON.parse(row.value.toString()).total]), [[result.events[0]!.eventId, 3]]);
    });
  });

  describe('when another writer appends between load and append', () => {
    it('reloads, decides again on the new state and succeeds', async () => {
      const streamId = `counter-${randomUUID()}`;
      const store = contendedStore(fixture.store, 2);
      const result = await handleCommand({ store, decider: counter, streamId, command: { type: 'Increment', data: { by: 1, max: 10 } }, metadata });
      assert.equal(result.attempts, 3);
      assert.equal(store.appends, 3);
      // Two competing increments landed first; ours was decided on top of them.
      assert.deepEqual([result.version, result.state.total], [3, 3]);
      assert.deepEqual(result.events.map((event) => event.data), [{ by: 1, seq: 3 }]);
    });

    it('lets a decision refused on the new state surface as that refusal', async () => {
      const streamId = `counter-${randomUUID()}`;
      await assert.rejects(
        handleCommand({ store: contendedStore(fixture.store, 1), decider: counter, streamId, command: { type: 'Increment', data: { by: 1, max: 1 } }, metadata }),
        IllegalStateError,
      );
    });
  });

  describe('when the stream keeps moving', () => {
    it('gives up after the bound and rethrows the ConcurrencyError', async () => {
      const streamId = `counter-${randomUUID()}`;
      const store = contendedStore(fixture.store, Number.POSITIVE_INFINITY);
      await assert.rejects(
        handleCommand({ store, decider: counter, streamId, command: { type: 'Increment', data: { by: 1, max: 100 } }, metadata, retry: { attempts: 3, initialDelayMs: 1 } }),
        ConcurrencyError,
      );
      assert.equal(store.appends, 3);
      assert.equal((await fixture.store.readStream(streamId)).version, 3, 'only the competing appends landed');
    });
  });
});
