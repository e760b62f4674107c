import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelayMs, type BackoffPolicy } from './backoff';

const policy: BackoffPolicy = { initialDelayMs: 100, maxDelayMs: 1_000, multiplier: 2, jitter: 0 };

describe('backoffDelayMs', () => {
  it('grows exponentially from the initial delay', () => {
    assert.deepEqual([1, 2, 3, 4].map((attempt) => backoffDelayMs(policy, attempt)), [100, 200, 400, 800]);
  });

  it('never exceeds the maximum delay', () => {
    assert.equal(backoffDelayMs(policy, 10), 1_000);
    assert.equal(backoffDelayMs(policy, 1_000), 1_000);
  });

  it('takes up to the jitter fraction off the delay', () => {
    const jittered = { ...policy, jitter: 0.5 };
    assert.equal(backoffDelayMs(jittered, 2, () => 0), 200);
    assert.equal(backoffDelayMs(jittered, 2, () => 1), 100);
    assert.equal(backoffDelayMs(jittered, 2, () => 0.5), 150);
  });
});
