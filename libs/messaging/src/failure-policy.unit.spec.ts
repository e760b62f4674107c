import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConcurrencyError, IllegalStateError, NotFoundError, ValidationError } from '@loopline/errors';
import { classifyFailure, classifyParseFailure, nextStepAfterFailure } from './failure-policy';
import { MessagingError } from './messaging-error';

describe('classifyFailure', () => {
  it('retries a concurrency conflict', () => {
    assert.deepEqual(classifyFailure(new ConcurrencyError('stream moved')), { retryable: true, code: 'CONCURRENCY', message: 'stream moved' });
  });

  it('does not retry validation, not-found or illegal-state errors', () => {
    for (const error of [new ValidationError('bad'), new NotFoundError('gone'), new IllegalStateError('archived')]) {
      assert.equal(classifyFailure(error).retryable, false, error.code);
      assert.equal(classifyFailure(error).code, error.code);
    }
  });

  it('retries a handler timeout', () => {
    assert.deepEqual(classifyFailure(new MessagingError('HANDLER_TIMEOUT', 'slow')), { retryable: true, code: 'HANDLER_TIMEOUT', message: 'slow' });
  });

  it('honours the retriable flag and type of a kafkajs-style error', () => {
    const error = Object.assign(new Error('fatal'), { type: 'TOPIC_AUTHORIZATION_FAILED', retriable: false });
    assert.deepEqual(classifyFailure(error), { retryable: false, code: 'TOPIC_AUTHORIZATION_FAILED', message: 'fatal' });
  });

  it('takes an unknown error as transient and keeps its own code', () => {
    const connectionLost = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    assert.deepEqual(classifyFailure(connectionLost), { retryable: true, code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' });
    assert.deepEqual(classifyFailure('thrown string'), { retryable: true, code: 'UNCLASSIFIED', message: 'thrown string' });
  });
});

describe('classifyParseFailure', () => {
  it('is never retryable and keeps the parser error code', () => {
    const contractError = Object.assign(new Error('unknown type'), { code: 'UNKNOWN_EVENT_TYPE' });
    assert.deepEqual(classifyParseFailure(contractError), { retryable: false, code: 'UNKNOWN_EVENT_TYPE', message: 'unknown type' });
    assert.equal(classifyParseFailure(new SyntaxError('json')).code, 'UNPARSEABLE');
  });
});

describe('nextStepAfterFailure', () => {
  const retryable = { retryable: true, code: 'CONCURRENCY', message: '' };

  it('retries a retryable failure while attempts remain', () => {
    assert.deepEqual(nextStepAfterFailure(retryable, 1, 3), { kind: 'retry' });
    assert.deepEqual(nextStepAfterFailure(retryable, 2, 3), { kind: 'retry' });
  });

  it('dead-letters a retryable failure once the attempts are spent', () => {
    assert.deepEqual(nextStepAfterFailure(retryable, 3, 3), { kind: 'dead-letter', reason: 'retries-exhausted' });
  });

  it('dead-letters a non-retryable failure at once', () => {
    assert.deepEqual(nextStepAfterFailure({ ...retryable, retryable: false }, 1, 3), { kind: 'dead-letter', reason: 'non-retryable' });
  });
});
