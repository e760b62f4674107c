import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { ConcurrencyError, NotFoundError } from '@loopline/errors';
import { deadLetterHeaders } from './dead-letter';
import type { ConsumedRecord, OutgoingMessage } from './message-types';
import { deliverRecord, type DeliveryPorts, type HandleEvent } from './record-delivery';

const record: ConsumedRecord = { topic: 'orders', partition: 0, offset: '7', key: Buffer.from('k'), value: Buffer.from('{"n":1}'), headers: {}, timestamp: '0' };

interface Harness {
  readonly ports: DeliveryPorts<{ n: number }>;
  readonly deadLetters: OutgoingMessage[];
  readonly heartbeats: number[];
  readonly stop: AbortController;
}

function harness(handle: HandleEvent<{ n: number }>, overrides: Partial<DeliveryPorts<{ n: number }>> = {}): Harness {
  const deadLetters: OutgoingMessage[] = [];
  const heartbeats: number[] = [];
  const stop = new AbortController();
  const ports: DeliveryPorts<{ n: number }> = {
    groupId: 'g',
    parse: (consumed) => JSON.parse(consumed.value?.toString() ?? '') as { n: number },
    handle,
    policy: { maxAttempts: 3, backoff: { initialDelayMs: 30, maxDelayMs: 30, multiplier: 1, jitter: 0 }, handlerTimeoutMs: 1_000, heartbeatIntervalMs: 10 },
    deadLetterTopicOf: (topic) => `${topic}.dlq`,
    publishDeadLetter: async (message) => void deadLetters.push(message),
    heartbeat: async () => void heartbeats.push(Date.now()),
    stopSignal: stop.signal,
    logger: pino({ level: 'silent' }),
    now: () => new Date('2025-01-01T00:00:00Z'),
    ...overrides,
  };
  return { ports, deadLetters, heartbeats, stop };
}

const header = (message: OutgoingMessage | undefined, name: string): unknown => message?.headers?.[name];

describe('deliverRecord', () => {
  describe('when the handler succeeds', () => {
    it('hands it the parsed event and the first attempt', async () => {
      const seen: Array<{ n: number; attempt: number; offset: string }> = [];
      const { ports, deadLetters } = harness(async (event, delivery) => void seen.push({ n: event.n, attempt: delivery.attempt, offset: delivery.offset }));
      assert.equal(await deliverRecord(record, ports), 'handled');
      assert.deepEqual(seen, [{ n: 1, attempt: 1, offset: '7' }]);
      assert.equal(deadLetters.length, 0);
    });
  });

  describe('when the payload does not parse', () => {
    it('dead-letters it without calling the handler', async () => {
      let calls = 0;
      const { ports, deadLetters } = harness(async () => void (calls += 1));
      assert.equal(await deliverRecord({ ...record, value: Buffer.from('{') }, ports), 'handled');
      assert.equal(calls, 0);
      assert.equal(header(deadLetters[0], deadLetterHeaders.reason), 'unparseable');
      assert.equal(header(deadLetters[0], deadLetterHeaders.attempts), '0');
    });
  });

  describe('when the handler fails with a retryable error', () => {
    it('heartbeats through the backoff and retries until attempts run out', async () => {
      const attempts: number[] = [];
      const { ports, deadLetters, heartbeats } = harness(async (_event, { attempt }) => {
        attempts.push(attempt);
        throw new ConcurrencyError('conflict');
      });
      assert.equal(await deliverRecord(record, ports), 'handled');
      assert.deepEqual(attempts, [1, 2, 3]);
      assert.ok(heartbeats.length >= 4, `two 30 ms waits in 10 ms slices heartbeat several times, got ${heartbeats.length}`);
      assert.equal(header(deadLetters[0], deadLetterHeaders.reason), 'retries-exhausted');
      assert.equal(header(deadLetters[0], deadLetterHeaders.failedAt), '2025-01-01T00:00:00.000Z');
    });
  });

  describe('when the handler fails with a non-retryable error', () => {
    it('dead-letters at once', async () => {
      const { ports, deadLetters } = harness(async () => Promise.reject(new NotFoundError('no such model')));
      await deliverRecord(record, ports);
      assert.equal(header(deadLetters[0], deadLetterHeaders.errorCode), 'NOT_FOUND');
      assert.equal(header(deadLetters[0], deadLetterHeaders.attempts), '1');
    });
  });

  describe('when stop is requested during a backoff', () => {
    it('gives up the record without dead-lettering it', async () => {
      let attempts = 0;
      const slowBackoff = { maxAttempts: 3, backoff: { initialDelayMs: 60_000, maxDelayMs: 60_000, multiplier: 1, jitter: 0 }, handlerTimeoutMs: 1_000, heartbeatIntervalMs: 60_000 };
      const { ports, deadLetters, stop } = harness(
        async () => {
          attempts += 1;
          setImmediate(() => stop.abort());
          throw new ConcurrencyError('conflict');
        },
        { policy: slowBackoff },
      );
      assert.equal(await deliverRecord(record, ports), 'interrupted');
      assert.equal(attempts, 1);
      assert.equal(deadLetters.length, 0);
    });
  });

  describe('when the dead-letter copy cannot be published', () => {
    it('throws, so that the record is not committed', async () => {
      const { ports } = harness(async () => Promise.reject(new NotFoundError('gone')), {
        publishDeadLetter: async () => Promise.reject(new Error('broker unreachable')),
      });
      await assert.rejects(deliverRecord(record, ports), /broker unreachable/);
    });
  });
});
