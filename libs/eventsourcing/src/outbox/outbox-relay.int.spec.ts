import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Kafka, Producer } from 'kafkajs';
import { createTestDatabase, eventually, testInfra } from '@loopline/testing';
import {
  collectTopic,
  createStoreFixture,
  createTopic,
  delay,
  duplicatesOf,
  incremented,
  orderViolations,
  testKafka,
  topicMessageCount,
  type StoreFixture,
} from '../../test/fixtures';
import { Inbox } from '../inbox/inbox';
import type { PostgresEventStore } from '../postgres/postgres-event-store';
import { createOutboxProducer, KafkaOutboxPublisher } from './kafka-outbox-publisher';
import type { PendingOutboxMessage } from './outbox-message';
import type { OutboxPublisher } from './outbox-publisher';
import { OutboxRelay, type OutboxLag } from './outbox-relay';

// Real PostgreSQL (a database per test) and real Kafka (a topic and consumer group per test).

/** Appends `count` events to a stream in appends of `perAppend`, each event with its outbox message (value = {seq}). */
async function appendWithOutbox(store: PostgresEventStore, topic: string, streamId: string, count: number, perAppend = 1): Promise<string[]> {
  const ids: string[] = [];
  for (let version = 0; version < count; version += perAppend) {
    const events = Array.from({ length: Math.min(perAppend, count - version) }, (_, index) => incremented(version + index + 1));
    await store.appendToStream(streamId, events, {
      expectedVersion: version,
      outbox: events.map((event) => ({ topic, key: streamId, value: JSON.stringify({ seq: event.data.seq }) })),
    });
    ids.push(...events.map((event) => event.eventId));
  }
  return ids;
}

/** Polls the relay's lag until `accept` holds, and returns that lag. */
async function lagWhen(relay: OutboxRelay, accept: (lag: OutboxLag) => boolean, what: string): Promise<OutboxLag> {
  let last: OutboxLag | undefined;
  await eventually(async () => accept((last = await relay.lag())), { timeoutMs: 20_000, what });
  return last!;
}

/** A publisher double at the port, for behaviour where Kafka is not the point. */
class RecordingPublisher implements OutboxPublisher {
  readonly published: PendingOutboxMessage[] = [];
  failuresLeft = 0;
  async publish(messages: readonly PendingOutboxMessage[]): Promise<void> {
    if (this.failuresLeft > 0) {
      this.failuresLeft -= 1;
      throw new Error('broker unreachable');
    }
    this.published.push(...messages);
  }
  isPoison(): boolean {
    return false;
  }
}

describe('OutboxRelay', () => {
  let fixture: StoreFixture;
  let kafka: Kafka;
  let producer: Producer;
  beforeEach(async () => {
    fixture = await createStoreFixture(await createTestDatabase('es_outbox'), { poolSize: 16 });
    kafka = testKafka(testInfra().kafkaBrokers);
    producer = createOutboxProducer(kafka);
    await producer.connect();
  });
  afterEach(async () => {
    await producer.disconnect();
    await fixture.close();
  });

  describe('when eight writers commit deliberately out of order', () => {
    it('delivers every event to Kafka once, in order per key, and holds rows behind an open transaction', async () => {
      const { store, pool } = fixture;
      const topic = await createTopic(kafka, 'outbox-order');
      const collector = await collectTopic(kafka, topic);
      const relay = new OutboxRelay({ pool, publisher: new KafkaOutboxPublisher(producer), batchSize: 50, pollIntervalMs: 10 });
      relay.start();
      const committed: string[] = [];
      // A straggler: takes its xid and outbox position first, commits last.
      const straggler = await pool.connect();
      try {
        await straggler.query('BEGIN');
        const stragglerStream = `straggler-${randomUUID()}`;
        const stragglerEvent = incremented(1);
        await store.appendToStream(stragglerStream, [stragglerEvent], {
          expectedVersion: 'no_stream',
          outbox: [{ topic, key: stragglerStream, value: JSON.stringify({ seq: 1 }) }],
          transaction: straggler,
        });
        const { rows: stragglerRows } = await straggler.query<{ xid: string }>('SELECT pg_current_xact_id()::text AS xid');

        const writers = Array.from({ length: 8 }, async (_, writer) => {
          const streams = [`w${writer}a-${randomUUID()}`, `w${writer}b-${randomUUID()}`];
          for (let seq = 1; seq <= 20; seq += 1) {
            const streamId = streams[seq % 2]!;
            const event = incremented(seq);
            const client = await pool.connect();
            try {
              await client.query('BEGIN');
              await store.appendToStream(streamId, [event], {
                expectedVersion: Math.floor((seq - 1) / 2),
                outbox: [{ topic, key: streamId, value: JSON.stringify({ seq }) }],
                transaction: client,
              });
              await delay(Math.floor(Math.random() * 15)); // reorders commits against positions
              await client.query('COMMIT');
              committed.push(event.eventId);
            } finally {
              client.release();
            }
          }
        });
        await Promise.all(writers);

        // Everything after the straggler's xid waits for it; nothing of it may have been published.
        const held = await lagWhen(relay, (lag) => lag.heldBackByHorizon > 0, 'rows held back by the open transaction');
        assert.equal(held.heldBackByHorizon, held.pending, 'every pending row is held back by the straggler, none is merely slow');
        const leaked = await pool.query("SELECT count(*)::int AS n FROM outbox WHERE published_at IS NOT NULL AND transaction_id > $1::xid8", [stragglerRows[0]!.xid]);
        assert.equal(leaked.rows[0].n, 0, 'rows of transactions younger than the open one were published');

        await straggler.query('COMMIT');
        committed.push(stragglerEvent.eventId);

        await eventually(() => collector.distinct() === committed.length, { timeoutMs: 20_000, what: `${committed.length} distinct events consumed` });
        const lag = await lagWhen(relay, (current) => current.pending === 0, 'outbox drained');
        assert.deepEqual({ pending: lag.pending, dead: lag.dead }, { pending: 0, dead: 0 });
        assert.deepEqual(new Set(collector.messages.map((message) => message.eventId)), new Set(committed));
        assert.equal(await topicMessageCount(kafka, topic), committed.length, 'no crash happened, so nothing may be published twice');
        assert.deepEqual(duplicatesOf(collector.messages), []);
        assert.deepEqual(orderViolations(collector.messages), []);
      } finally {
        // A failed assertion must not leave a checked-out client behind: pool.end() would hang.
        await straggler.query('ROLLBACK').catch(() => undefined);
        straggler.release();
        await relay.stop();
        await collector.stop();
      }
    });
  });

  describe('when the relay process is killed between publishing a batch and marking it', () => {
    it('loses nothing after a restart; the duplicated batch is absorbed by the consumer inbox', async (t) => {
      const { store, pool, url } = fixture;
      const topic = await createTopic(kafka, 'outbox-crash');
      const ids: string[] = [];
      for (let stream = 0; stream < 10; stream += 1) ids.push(...(await appendWithOutbox(store, topic, `crash-${stream}-${randomUUID()}`, 100, 10)));

      // The consumer applies each message through the inbox; `effects` has no unique key, so a
      // duplicate effect would show as an extra row.
      await pool.query('CREATE TABLE effects (event_id text NOT NULL)');
      const inbox = new Inbox();
      let duplicatesSkipped = 0;
      const collector = await collectTopic(kafka, topic, async (message) => {
        const outcome = await inbox.handleOnce(pool, 'effects-writer', message.eventId, (tx) => tx.query('INSERT INTO effects (event_id) VALUES ($1)', [message.eventId]));
        if (outcome.status === 'duplicate') duplicatesSkipped += 1;
      });

      const batchSize = 100;
      const child = spawn(process.execPath, ['-r', '@swc-node/register', join(__dirname, '../../test/outbox-relay-process.ts')], {
        cwd: join(__dirname, '../../../..'),
        env: { ...process.env, RELAY_DATABASE_URL: url, RELAY_KAFKA_BROKERS: testInfra().kafkaBrokers.join(','), RELAY_BATCH_SIZE: String(batchSize), HANG_AFTER_BATCHES: '3' },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
      // Whatever fails below, the child must not outlive the test.
      t.after(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      });
      let inFlight = 0;
      for await (const line of createInterface({ input: child.stdout! })) {
        const match = /^published-unmarked (\d+)$/.exec(line);
        if (match) {
          inFlight = Number(match[1]);
          break;
        }
      }
      // Marks overlap the next publish; let the mark of batch 2 land, so that exactly batch 3 is
      // published-but-unmarked when the process dies.
      const markedCount = async () => (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NOT NULL')).rows[0]!.n;
      await eventually(async () => (await markedCount()) === 2 * batchSize, { what: 'batches 1 and 2 marked' });
      child.kill('SIGKILL');
      assert.equal(await exited, 'SIGKILL');
      assert.equal(inFlight, batchSize);
      assert.equal(await markedCount(), 2 * batchSize, 'the killed relay marked exactly the two batches before the in-flight one');

      const restarted = new OutboxRelay({ pool, publisher: new KafkaOutboxPublisher(producer), batchSize, pollIntervalMs: 10 });
      restarted.start();
      try {
        await eventually(async () => (await restarted.lag()).pending === 0, { timeoutMs: 20_000, what: 'outbox drained by the restarted relay' });
        // Everything on the topic, duplicates included, must be consumed before counting them.
        const onTopic = await topicMessageCount(kafka, topic);
        await eventually(() => collector.messages.length === onTopic, { timeoutMs: 20_000, what: `all ${onTopic} messages on the topic consumed` });
        const duplicates = duplicatesOf(collector.messages);
        assert.equal(duplicatesSkipped, duplicates.length, 'the inbox did not see every duplicate as one');
        t.diagnostic(`lost 0 of ${ids.length}; duplicated ${duplicates.length} (the batch in flight at the kill was ${inFlight})`);
        assert.deepEqual(new Set(collector.messages.map((message) => message.eventId)), new Set(ids), 'an event was lost');
        assert.ok(duplicates.length > 0, 'the kill landed after publish and before mark, so the batch must come again');
        assert.ok(duplicates.length <= inFlight, `${duplicates.length} duplicates exceed the in-flight batch of ${inFlight}`);
        assert.deepEqual(orderViolations(collector.messages), []);
        const { rows } = await pool.query<{ total: number; distinct: number }>('SELECT count(*)::int AS total, count(DISTINCT event_id)::int AS distinct FROM effects');
        assert.deepEqual(rows[0], { total: ids.length, distinct: ids.length }, 'an effect happened twice');
      } finally {
        await restarted.stop();
        await collector.stop();
      }
    });
  });

  describe('when one message keeps failing', () => {
    it('marks that row dead after maxAttempts, never publishes it, and publishes the others', async () => {
      const { store, pool } = fixture;
      const topic = await createTopic(kafka, 'outbox-poison');
      const streamId = `poison-${randomUUID()}`;
      const ids = await appendWithOutbox(store, topic, streamId, 10);
      const poisonId = ids[4]!;
      const kafkaPublisher = new KafkaOutboxPublisher(producer);
      const publisher: OutboxPublisher = {
        isPoison: () => true,
        publish: async (messages) => {
          if (messages.some((message) => message.eventId === poisonId)) throw new Error('MESSAGE_TOO_LARGE (simulated)');
          await kafkaPublisher.publish(messages);
        },
      };
      const collector = await collectTopic(kafka, topic);
      const relay = new OutboxRelay({ pool, publisher, maxAttempts: 3, backoff: { initialMs: 1, maxMs: 5 }, pollIntervalMs: 10 });
      relay.start();
      try {
        const lag = await lagWhen(relay, (current) => current.pending === 0, 'outbox settled');
        assert.equal(lag.dead, 1);
        await eventually(() => collector.distinct() === 9, { what: 'the nine healthy events consumed' });
        const { rows } = await pool.query('SELECT event_id, attempts, dead, published_at, last_error FROM outbox WHERE dead');
        assert.equal(rows.length, 1);
        assert.deepEqual([rows[0].event_id, rows[0].attempts, rows[0].published_at], [poisonId, 3, null]);
        assert.match(rows[0].last_error, /MESSAGE_TOO_LARGE/);
        assert.equal(relay.stats.deadLettered, 1);
        assert.ok(!collector.messages.some((message) => message.eventId === poisonId), 'the dead message was published');
        assert.deepEqual(orderViolations(collector.messages), []);
      } finally {
        await relay.stop();
        await collector.stop();
      }
    });
  });

  describe('when the transport fails for a while', () => {
    it('backs off and retries without dead-lettering anything', async () => {
      const { store, pool } = fixture;
      const ids = await appendWithOutbox(store, 'unused', `transport-${randomUUID()}`, 5);
      const publisher = new RecordingPublisher();
      publisher.failuresLeft = 6;
      const errors: unknown[] = [];
      const relay = new OutboxRelay({ pool, publisher, maxAttempts: 2, backoff: { initialMs: 1, maxMs: 10 }, onError: (error) => errors.push(error) });
      relay.start();
      try {
        await eventually(() => publisher.published.length === ids.length, { what: 'published after the outage' });
        assert.deepEqual(publisher.published.map((message) => message.eventId), ids);
        assert.ok(publisher.published.every((message) => message.headers.ce_id === message.eventId), 'the ce_id header carries the event id');
        assert.equal(errors.length, 6);
        const lag = await relay.lag();
        assert.equal(lag.dead, 0);
        const { rows } = await pool.query<{ attempts: number }>('SELECT attempts FROM outbox ORDER BY position LIMIT 1');
        assert.equal(rows[0]!.attempts, 6, 'failures are recorded on the head row for visibility');
      } finally {
        await relay.stop();
      }
    });
  });

  describe('when two relays run against one outbox', () => {
    it('lets only the lock holder relay, and the other takes over when it stops', async () => {
      const { store, pool } = fixture;
      const first = new RecordingPublisher();
      const second = new RecordingPublisher();
      const relayA = new OutboxRelay({ pool, publisher: first, pollIntervalMs: 10 });
      const relayB = new OutboxRelay({ pool, publisher: second, pollIntervalMs: 10 });
      relayA.start();
      await appendWithOutbox(store, 't', `leader-${randomUUID()}`, 3); // published by whichever holds the lock
      await eventually(() => first.published.length + second.published.length === 3, { what: 'first rows published' });
      relayB.start();
      const before = await appendWithOutbox(store, 't', `leader-${randomUUID()}`, 3);
      await eventually(() => first.published.length === 6, { what: 'relay A publishes while it holds the lock' });
      assert.equal(second.published.length, 0, 'relay B published while A held the lock');
      await relayA.stop();
      const afterStop = await appendWithOutbox(store, 't', `leader-${randomUUID()}`, 3);
      await eventually(() => second.published.length === 3, { what: 'relay B takes over' });
      await relayB.stop();
      assert.deepEqual(second.published.map((message) => message.eventId), afterStop);
      assert.deepEqual(first.published.slice(3).map((message) => message.eventId), before);
    });
  });

  describe('when the store notifies and the relay listens', () => {
    it('publishes long before the next poll would', async () => {
      const notifying = await createStoreFixture(await createTestDatabase('es_outbox_notify'), { notifyOutbox: true });
      const publisher = new RecordingPublisher();
      const relay = new OutboxRelay({ pool: notifying.pool, publisher, pollIntervalMs: 60_000, listen: true });
      try {
        relay.start();
        // The first iteration finds the outbox empty and sleeps for a minute: only NOTIFY can wake it.
        await eventually(async () => (await notifying.pool.query("SELECT 1 FROM pg_stat_activity WHERE query = 'LISTEN \"loopline_outbox_public\"'")).rowCount === 1, { what: 'relay listening' });
        await appendWithOutbox(notifying.store, 't', `notify-${randomUUID()}`, 1);
        await eventually(() => publisher.published.length === 1, { timeoutMs: 5_000, what: 'published on NOTIFY' });
      } finally {
        await relay.stop();
        await notifying.close();
      }
    });
  });

  describe('when stopped with drain', () => {
    it('publishes every pending row before it returns', async () => {
      const { store, pool } = fixture;
      const ids: string[] = [];
      for (let stream = 0; stream < 3; stream += 1) ids.push(...(await appendWithOutbox(store, 't', `drain-${stream}-${randomUUID()}`, 100, 50)));
      const publisher = new RecordingPublisher();
      const relay = new OutboxRelay({ pool, publisher, batchSize: 40, pollIntervalMs: 60_000 });
      relay.start();
      const started = Date.now();
      await relay.stop({ drain: true, drainTimeoutMs: 10_000 });
      assert.ok(Date.now() - started < 5_000, `drain took ${Date.now() - started} ms: it waited for a poll instead of draining`);
      assert.equal(publisher.published.length, ids.length);
      assert.equal((await relay.lag()).pending, 0);
      assert.equal(relay.running, false);
    });
  });
});
