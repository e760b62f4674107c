import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deadLetterHeaders, deadLetterMessage, defaultDeadLetterTopic, maxErrorMessageLength } from './dead-letter';
import type { ConsumedRecord } from './message-types';

const record: ConsumedRecord = {
  topic: 'model-versions.v1',
  partition: 2,
  offset: '41',
  key: Buffer.from('model-7'),
  value: Buffer.from([0x0a, 0x01, 0xff]),
  headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', ce_type: Buffer.from('x') },
  timestamp: '1700000000000',
};

describe('deadLetterMessage', () => {
  const failedAt = new Date('2025-01-02T03:04:05.000Z');
  const message = deadLetterMessage(record, 'model-versions.v1.dlq', {
    reason: 'retries-exhausted',
    failure: { retryable: true, code: 'CONCURRENCY', message: 'stream moved' },
    attempts: 3,
    failedAt,
  });

  it('keeps the original key, value and headers', () => {
    assert.equal(message.topic, 'model-versions.v1.dlq');
    assert.deepEqual(message.key, record.key);
    assert.deepEqual(message.value, record.value);
    assert.equal(message.headers?.traceparent, record.headers.traceparent);
    assert.deepEqual(message.headers?.ce_type, record.headers.ce_type);
  });

  it('adds the reason, the error and the original coordinates', () => {
    assert.deepEqual(
      Object.fromEntries(Object.values(deadLetterHeaders).map((name) => [name, message.headers?.[name]])),
      {
        'loopline-dlq-reason': 'retries-exhausted',
        'loopline-dlq-error-code': 'CONCURRENCY',
        'loopline-dlq-error-message': 'stream moved',
        'loopline-dlq-original-topic': 'model-versions.v1',
        'loopline-dlq-original-partition': '2',
        'loopline-dlq-original-offset': '41',
        'loopline-dlq-attempts': '3',
        'loopline-dlq-failed-at': '2025-01-02T03:04:05.000Z',
      },
    );
  });

  it('cuts a long error message', () => {
    const long = deadLetterMessage(record, 'x.dlq', {
      reason: 'non-retryable',
      failure: { retryable: false, code: 'VALIDATION', message: 'x'.repeat(5_000) },
      attempts: 1,
      failedAt,
    });
    assert.equal(String(long.headers?.[deadLetterHeaders.errorMessage]).length, maxErrorMessageLength);
  });
});

describe('defaultDeadLetterTopic', () => {
  it('appends .dlq', () => {
    assert.equal(defaultDeadLetterTopic('datasets.v1'), 'datasets.v1.dlq');
  });
});
