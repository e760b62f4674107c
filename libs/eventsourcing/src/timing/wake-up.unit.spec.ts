import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay, WakeUp } from './wake-up';

describe('WakeUp', () => {
  describe('when woken before the delay', () => {
    it('resolves at once instead of after the delay', async () => {
      const wakeUp = new WakeUp();
      const started = Date.now();
      const sleeping = wakeUp.sleep(10_000);
      wakeUp.wake();
      await sleeping;
      assert.ok(Date.now() - started < 1_000, 'sleep did not end on wake()');
    });
  });

  describe('when woken while awake', () => {
    it('remembers the signal: the next sleep returns at once (no lost wake-up)', async () => {
      const wakeUp = new WakeUp();
      wakeUp.wake();
      const started = Date.now();
      await wakeUp.sleep(10_000);
      assert.ok(Date.now() - started < 1_000, 'the wake-up before sleep() was lost');
      const second = Date.now();
      await wakeUp.sleep(30);
      assert.ok(Date.now() - second >= 25, 'one signal wakes one sleep only');
    });
  });

  describe('when nobody wakes it', () => {
    it('resolves after the delay', async () => {
      const started = Date.now();
      await new WakeUp().sleep(30);
      assert.ok(Date.now() - started >= 25);
    });
  });
});

describe('backoffDelay', () => {
  it('doubles per failure from the initial delay', () => {
    const noJitter = () => 0.5;
    assert.deepEqual([1, 2, 3, 4].map((failures) => backoffDelay(failures, 100, 10_000, noJitter)), [100, 200, 400, 800]);
  });

  it('never exceeds the maximum by more than the jitter', () => {
    assert.equal(backoffDelay(50, 100, 1_000, () => 0.999), 1_499);
    assert.equal(backoffDelay(50, 100, 1_000, () => 0), 500);
  });
});
