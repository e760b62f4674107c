import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError, KafkaJSRequestTimeoutError } from 'kafkajs';
import { requiresProducerReset } from './producer-reset';

/** A protocol error as kafkajs builds it from a broker error code. */
function protocolError(type: string): KafkaJSProtocolError {
  return new KafkaJSProtocolError(Object.assign(new Error(type), { type, code: 45, retriable: false }));
}

describe('requiresProducerReset', () => {
  it('is true for fatal sequence errors', () => {
    for (const type of ['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH']) {
      assert.equal(requiresProducerReset(protocolError(type)), true, type);
    }
  });

  it('finds a fatal error wrapped in a cause', () => {
    const wrapped = new Error('send failed', { cause: protocolError('OUT_OF_ORDER_SEQUENCE_NUMBER') });
    assert.equal(requiresProducerReset(wrapped), true);
  });

  it('finds a fatal error inside an aggregate', () => {
    assert.equal(requiresProducerReset({ name: 'KafkaJSAggregateError', errors: [new Error('x'), protocolError('UNKNOWN_PRODUCER_ID')] }), true);
  });

  it('is true for a request timeout or exhausted retries, whose outcome is unknown', () => {
    assert.equal(requiresProducerReset(new KafkaJSRequestTimeoutError('timed out')), true);
    assert.equal(requiresProducerReset(new KafkaJSNumberOfRetriesExceeded(new Error('leader moved'), { retryCount: 8, retryTime: 300 })), true);
  });

  it('is false for errors the producer survives', () => {
    assert.equal(requiresProducerReset(protocolError('UNKNOWN_TOPIC_OR_PARTITION')), false);
    assert.equal(requiresProducerReset(new Error('boom')), false);
    assert.equal(requiresProducerReset(undefined), false);
  });
});
