// Real: Kafka broker, kafkajs consumer group, idempotent producer. Each test has its own topics and groups.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Admin, Kafka } from 'kafkajs';
import { ConcurrencyError, ValidationError } from '@loopline/errors';
import { eventually, testInfra, uniqueName } from '@loopline/testing';
import { fastGroup, gate, headerText, recordTopic, testKafka, testLogger } from '../test/kafka-test-kit';
import { installTestTracing, type TestTracing } from '../test/test-tracing';
import { deadLetterHeaders } from './dead-letter';
import { createEventProducer, type EventProducer } from './event-producer';
import { MessagingError } from './messaging-error';
import type { ConsumedRecord } from './message-types';
import { subscribe, type Subscription, type SubscriptionOptions } from './subscription';
import { ensureTopics } from './topics';

/** The test payload: what to do with the record, and an id to count effects by. */
interface Instruction {
  readonly id: string;
  readonly behaviour: 'succeed' | 'reject' | 'conflict-always' | 'conflict-once';
}

function parseInstruction(record: ConsumedRecord): Instruction {
  const parsed: unknown = JSON.parse(record.value?.toString('utf8') ?? '');
  if (typeof parsed !== 'object' || parsed === null || !('id' in parsed) || !('behaviour' in parsed)) throw new Error('not an instruction');
  return parsed as Instruction;
}

function instruction(topic: string, id: string, behaviour: Instruction['behaviour']) {
  return { topic, key: id, value: JSON.stringify({ id, behaviour }), headers: { 'x-origin': 'subscription-spec' } };
}

/** Counts effects and attempts per instruction id: what a handler's side effects would be. */
class EffectLedger {
  readonly effects = new Map<string, number>();
  readonly attempts = new Map<string, number[]>();

  readonly handle = async (event: Instruction, delivery: { attempt: number }): Promise<void> => {
    this.attempts.set(event.id, [...(this.attempts.get(event.id) ?? []), delivery.attempt]);
    if (event.behaviour === 'reject') throw new ValidationError(`instruction ${event.id} is invalid`);
    if (event.behaviour === 'conflict-always') throw new ConcurrencyError(`instruction ${event.id} conflicts`);
    if (event.behaviour === 'conflict-once' && delivery.attempt === 1) throw new ConcurrencyError(`instruction ${event.id} conflicts once`);
    this.effects.set(event.id, (this.effects.get(event.id) ?? 0) + 1);
  };
}

describe('subscribe', () => {
  let kafka: Kafka;
  let admin: Admin;
  let producer: EventProducer;
  const running: Subscription[] = [];
  // With a tracer provider installed, every record carries a traceparent the dead letters must keep.
  let tracing: TestTracing;

  before(async () => {
    tracing = installTestTracing();
    kafka = testKafka(testInfra().kafkaBrokers, 'subscription-spec');
    admin = kafka.admin();
    await admin.connect();
    producer = createEventProducer(kafka, { logger: testLogger });
    await producer.connect();
  });

  after(async () => {
    await Promise.all(running.map((subscription) => subscription.stop()));
    await producer.disconnect();
    await admin.disconnect();
    await tracing.shutdown();
  });

  async function provisionTopic(prefix: string): Promise<string> {
    const topic = uniqueName(prefix);
    await ensureTopics(admin, [{ topic, numPartitions: 1, replicationFactor: 1, withDeadLetterTopic: true }]);
    return topic;
  }

  async function start(options: Omit<SubscriptionOptions<Instruction>, 'fromBeginning' | 'parse' | 'logger' | 'group'>): Promise<Subscription> {
    const subscription = await subscribe(kafka, { fromBeginning: true, parse: parseInstruction, logger: testLogger, group: fastGroup, ...options });
    running.push(subscription);
    return subscription;
  }

  describe('when records cannot be handled', () => {
    it('dead-letters each with its reason, coordinates and attempts, and handles the others exactly once', async () => {
      const topic = await provisionTopic('poison');
      const ledger = new EffectLedger();
      const subscription = await start({
        groupId: uniqueName('poison-group'),
        topics: [topic],
        handle: ledger.handle,
        maxAttempts: 3,
        backoff: { initialDelayMs: 10, multiplier: 2, jitter: 0 },
        handlerTimeoutMs: 2_000,
      });
      await producer.publish([
        instruction(topic, 'ok-1', 'succeed'),
        { topic, key: 'garbage', value: 'not json {', headers: { 'x-origin': 'subscription-spec' } },
        instruction(topic, 'ok-2', 'succeed'),
        instruction(topic, 'invalid', 'reject'),
        instruction(topic, 'ok-3', 'succeed'),
        instruction(topic, 'conflicted', 'conflict-always'),
        instruction(topic, 'ok-4', 'succeed'),
      ]);

      await eventually(() => ledger.effects.has('ok-4'), { timeoutMs: 15_000, what: 'the record after the poison ones handled' });
      const deadLetters = await recordTopic(kafka, `${topic}.dlq`, uniqueName('dlq-reader'));
      const originals = await recordTopic(kafka, topic, uniqueName('source-reader'));
      try {
        await eventually(() => deadLetters.records.length === 3 && originals.records.length === 7, { timeoutMs: 10_000, what: 'three dead letters' });
      } finally {
        await Promise.all([deadLetters.stop(), originals.stop()]);
      }

      assert.deepEqual(Object.fromEntries(ledger.effects), { 'ok-1': 1, 'ok-2': 1, 'ok-3': 1, 'ok-4': 1 });
      assert.deepEqual(ledger.attempts.get('invalid'), [1], 'a non-retryable failure is not retried');
      assert.deepEqual(ledger.attempts.get('conflicted'), [1, 2, 3], 'a retryable failure is tried maxAttempts times');
      assert.equal(subscription.isRunning(), true);

      const summary = deadLetters.records.map((record) => ({
        key: record.key?.toString(),
        reason: headerText(record, deadLetterHeaders.reason),
        code: headerText(record, deadLetterHeaders.errorCode),
        topic: headerText(record, deadLetterHeaders.originalTopic),
        partition: headerText(record, deadLetterHeaders.originalPartition),
        offset: headerText(record, deadLetterHeaders.originalOffset),
        attempts: headerText(record, deadLetterHeaders.attempts),
      }));
      assert.deepEqual(summary, [
        { key: 'garbage', reason: 'unparseable', code: 'UNPARSEABLE', topic, partition: '0', offset: '1', attempts: '0' },
        { key: 'invalid', reason: 'non-retryable', code: 'VALIDATION', topic, partition: '0', offset: '3', attempts: '1' },
        { key: 'conflicted', reason: 'retries-exhausted', code: 'CONCURRENCY', topic, partition: '0', offset: '5', attempts: '3' },
      ]);
      const [garbage] = deadLetters.records;
      assert.equal(garbage?.value?.toString(), 'not json {', 'the original value is kept byte for byte');
      assert.equal(headerText(garbage!, 'x-origin'), 'subscription-spec', 'the original headers are kept');
      const originalTraceparent = headerText(originals.records[1]!, 'traceparent');
      assert.match(originalTraceparent ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      assert.equal(headerText(garbage!, 'traceparent'), originalTraceparent, 'the original trace context is kept');
      const failedAt = Date.parse(headerText(garbage!, deadLetterHeaders.failedAt) ?? '');
      assert.ok(Math.abs(Date.now() - failedAt) < 60_000, 'failed-at is a recent ISO time');
    });
  });

  describe('when a handler fails once with a retryable error', () => {
    it('succeeds on the second attempt without dead-lettering', async () => {
      const topic = await provisionTopic('flaky');
      const ledger = new EffectLedger();
      await start({ groupId: uniqueName('flaky-group'), topics: [topic], handle: ledger.handle, maxAttempts: 3, backoff: { initialDelayMs: 10, jitter: 0 }, handlerTimeoutMs: 2_000 });
      await producer.publish([instruction(topic, 'flaky', 'conflict-once'), instruction(topic, 'after', 'succeed')]);

      // Records of a partition are handled in order: once `after` is done, `flaky` is settled.
      await eventually(() => ledger.effects.has('after'), { timeoutMs: 15_000, what: 'the record after the flaky one handled' });
      assert.deepEqual(ledger.attempts.get('flaky'), [1, 2]);
      assert.equal(ledger.effects.get('flaky'), 1);
      const [deadLetterPartition] = await admin.fetchTopicOffsets(`${topic}.dlq`);
      assert.equal(deadLetterPartition?.high, '0', 'nothing was dead-lettered');
    });
  });

  describe('when a handler hangs past its timeout', () => {
    it('aborts it, retries, and dead-letters it as HANDLER_TIMEOUT once attempts run out', async () => {
      const topic = await provisionTopic('hanging');
      const aborted: boolean[] = [];
      await start({
        groupId: uniqueName('hanging-group'),
        topics: [topic],
        maxAttempts: 2,
        backoff: { initialDelayMs: 10, jitter: 0 },
        handlerTimeoutMs: 200,
        handle: (_event, { signal }) =>
          new Promise<void>((resolve) => {
            signal.addEventListener('abort', () => {
              aborted.push(true);
              resolve();
            });
          }),
      });
      await producer.publish([instruction(topic, 'hangs', 'succeed')]);

      const deadLetters = await recordTopic(kafka, `${topic}.dlq`, uniqueName('dlq-reader'));
      try {
        await eventually(() => deadLetters.records.length === 1, { timeoutMs: 10_000, what: 'the hanging record dead-lettered' });
      } finally {
        await deadLetters.stop();
      }
      assert.equal(headerText(deadLetters.records[0]!, deadLetterHeaders.errorCode), 'HANDLER_TIMEOUT');
      assert.equal(headerText(deadLetters.records[0]!, deadLetterHeaders.attempts), '2');
      assert.equal(aborted.length, 2, 'each timed-out attempt saw its signal abort');
    });
  });

  describe('when stopped while a record is in hand', () => {
    it('finishes it, commits the handled offsets, and a new member resumes after them', async () => {
      const topic = await provisionTopic('graceful');
      const groupId = uniqueName('graceful-group');
      const handled: string[] = [];
      const entered = gate();
      const release = gate();
      const first = await start({
        groupId,
        topics: [topic],
        handlerTimeoutMs: 5_000,
        handle: async (event) => {
          if (event.id === 'm1') {
            entered.open();
            await release.opened;
          }
          handled.push(event.id);
        },
      });
      await producer.publish(['m0', 'm1', 'm2'].map((id) => instruction(topic, id, 'succeed')));

      await entered.opened;
      const stopping = first.stop();
      assert.equal(first.health().state, 'stopping');
      release.open();
      await stopping;
      assert.deepEqual(handled, ['m0', 'm1'], 'the record in hand finished; the next one was not started');
      assert.equal(first.health().state, 'stopped');
      assert.equal(first.isRunning(), false);

      const resumed: string[] = [];
      await start({ groupId, topics: [topic], handlerTimeoutMs: 5_000, handle: async (event) => void resumed.push(event.id) });
      await producer.publish([instruction(topic, 'm3', 'succeed')]);
      await eventually(() => resumed.includes('m3'), { timeoutMs: 15_000, what: 'the new member handling m3' });
      assert.deepEqual(resumed, ['m2', 'm3'], 'handled records are not delivered again; the unhandled one is');
    });
  });

  describe('when the dead-letter topic does not exist', () => {
    it('refuses to subscribe', async () => {
      const topic = uniqueName('no-dlq');
      await ensureTopics(admin, [{ topic, numPartitions: 1, replicationFactor: 1 }]);
      await assert.rejects(
        subscribe(kafka, { groupId: uniqueName('no-dlq-group'), topics: [topic], fromBeginning: true, parse: parseInstruction, handle: async () => undefined, logger: testLogger, group: fastGroup, handlerTimeoutMs: 1_000 }),
        (error: unknown) => error instanceof MessagingError && error.code === 'TOPIC_MISSING' && error.message.includes(`${topic}.dlq`),
      );
    });
  });
});
