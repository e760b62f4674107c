import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Kafka } from 'kafkajs';
import pino from 'pino';
import { MessagingError } from './messaging-error';
import { ownRestartDelayMs, subscribe, type SubscriptionOptions } from './subscription';

// Options are checked before any connection: this client points nowhere and is never used.
const unreachable = new Kafka({ brokers: ['127.0.0.1:1'], clientId: 'options-spec' });

const valid: SubscriptionOptions<unknown> = {
  groupId: 'g',
  topics: ['t'],
  fromBeginning: false,
  parse: () => undefined,
  handle: async () => undefined,
  logger: pino({ level: 'silent' }),
};

async function rejectsAsInvalid(options: SubscriptionOptions<unknown>, reason: RegExp): Promise<void> {
  await assert.rejects(subscribe(unreachable, options), (error: unknown) => error instanceof MessagingError && error.code === 'INVALID_OPTIONS' && reason.test(error.message));
}

describe('subscribe options', () => {
  it('refuses a handler timeout that outlives the group session', async () => {
    await rejectsAsInvalid({ ...valid, handlerTimeoutMs: 30_000, group: { sessionTimeoutMs: 30_000 } }, /handlerTimeoutMs/);
  });

  it('refuses fewer than one attempt', async () => {
    await rejectsAsInvalid({ ...valid, maxAttempts: 0 }, /maxAttempts/);
  });

  it('refuses an empty topic list', async () => {
    await rejectsAsInvalid({ ...valid, topics: [] }, /no topics/);
  });
});

describe('restarting a consumer kafkajs gave up on', () => {
  it('waits 1 s, doubling per restart since the last join, never more than 30 s', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 50].map(ownRestartDelayMs), [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  });
});
