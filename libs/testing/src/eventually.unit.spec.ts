import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually } from './eventually';

describe('eventually', () => {
  it('resolves with the first truthy value', async () => {
    let calls = 0;
    const value = await eventually(() => (++calls >= 3 ? 'ready' : false), { intervalMs: 1 });
    assert.equal(value, 'ready');
    assert.equal(calls, 3);
  });

  it('fails after the deadline naming the condition and the last reason', async () => {
    await assert.rejects(
      eventually(() => { throw new Error('still booting'); }, { timeoutMs: 30, intervalMs: 5, what: 'service ready' }),
      /service ready not met within 30 ms: still booting/,
    );
  });
});
