import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { breaches, decideAlert } from './alert-decision';
import { lastClosedWindow, parseDuration, timeWindows } from './monitor';

describe('Monitor', () => {
  describe('durations', () => {
    it('parses 90s, 15m, 6h, 1d and 1h30m, and refuses anything else', () => {
      assert.equal(parseDuration('90s'), 90_000);
      assert.equal(parseDuration('6h'), 21_600_000);
      assert.equal(parseDuration('1h30m'), 5_400_000);
      assert.equal(parseDuration('soon'), undefined);
      assert.equal(parseDuration('6'), undefined);
    });
  });

  describe('time windows', () => {
    it('judges a window only once its label delay passed after its end', () => {
      const hour = 3_600_000;
      const now = Date.UTC(2026, 0, 1, 10, 30);
      assert.deepEqual(lastClosedWindow(hour, now, 0), { kind: 'time', startMs: Date.UTC(2026, 0, 1, 9), endMs: Date.UTC(2026, 0, 1, 10) });
      assert.deepEqual(lastClosedWindow(hour, now, 6 * hour), { kind: 'time', startMs: Date.UTC(2026, 0, 1, 3), endMs: Date.UTC(2026, 0, 1, 4) });
    });

    it('aligns backfill windows on multiples of the size', () => {
      const windows = timeWindows(3_600_000, Date.UTC(2026, 0, 1, 0, 10), Date.UTC(2026, 0, 1, 3));
      assert.equal(windows.length, 3);
      assert.deepEqual(windows[0], { kind: 'time', startMs: Date.UTC(2026, 0, 1, 0), endMs: Date.UTC(2026, 0, 1, 1) });
    });
  });

  describe('alert decision', () => {
    it('raises once, keeps the open alert through later breaches, resolves on recovery', () => {
      assert.deepEqual(decideAlert('breached', undefined), { kind: 'raise' });
      assert.deepEqual(decideAlert('breached', { alertId: 'a', modelVersion: 1 }), { kind: 'none' });
      assert.deepEqual(decideAlert('healthy', { alertId: 'a', modelVersion: 1 }), { kind: 'resolve', alertId: 'a' });
      assert.deepEqual(decideAlert('not_judged', { alertId: 'a', modelVersion: 1 }), { kind: 'none' });
      assert.deepEqual(decideAlert('healthy', undefined), { kind: 'none' });
    });

    it('compares a metric on its degraded side', () => {
      assert.equal(breaches(0.7, 0.8, true), true);
      assert.equal(breaches(0.8, 0.8, true), false);
      assert.equal(breaches(12, 10, false), true);
    });
  });
});
