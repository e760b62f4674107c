import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ReadinessCheck, ReadinessReport } from './readiness';
import { ReadinessMonitor } from './readiness-monitor';

const options = { timeoutMs: 1_000, intervalMs: 60_000 };

/** A check whose answer the test switches, counting how often it was probed. */
function switchableCheck(name: string, initiallyOk: boolean) {
  const state = { ok: initiallyOk, probes: 0 };
  const check: ReadinessCheck = {
    name,
    probe: async () => {
      state.probes += 1;
      await new Promise((resolve) => setTimeout(resolve, 10));
      if (!state.ok) throw new Error(`${name} is down`);
    },
  };
  return { check, state };
}

describe('ReadinessMonitor', () => {
  describe('when probes arrive together', () => {
    it('runs the checks once for all of them', async () => {
      const { check, state } = switchableCheck('postgres', true);
      const monitor = new ReadinessMonitor([check], options);
      const reports = await Promise.all([monitor.evaluate(), monitor.evaluate(), monitor.evaluate()]);
      assert.equal(state.probes, 1);
      assert.ok(reports.every((report) => report.ready));
    });
  });

  describe('when the ready flag changes', () => {
    it('tells listeners about each change and only about changes', async () => {
      const { check, state } = switchableCheck('kafka', false);
      const monitor = new ReadinessMonitor([check], options);
      const heard: boolean[] = [];
      monitor.onChange((report) => heard.push(report.ready));
      await monitor.evaluate();
      await monitor.evaluate();
      state.ok = true;
      await monitor.evaluate();
      await monitor.evaluate();
      assert.deepEqual(heard, [false, true]);
    });
  });

  describe('when a service adds its own check', () => {
    it('includes it in the next evaluation', async () => {
      const monitor = new ReadinessMonitor([switchableCheck('postgres', true).check], options);
      monitor.addCheck(switchableCheck('projections', false).check);
      const report = await monitor.evaluate();
      assert.equal(report.ready, false);
      assert.deepEqual(
        report.checks.map((c) => c.name),
        ['postgres', 'projections'],
      );
    });
  });

  describe('when draining', () => {
    it('reports not ready with a shutdown check even though every dependency answers', async () => {
      const { check } = switchableCheck('postgres', true);
      const monitor = new ReadinessMonitor([check], options);
      assert.equal((await monitor.evaluate()).ready, true);
      monitor.drain();
      const report = await monitor.evaluate();
      assert.equal(report.ready, false);
      assert.deepEqual(report.checks.at(-1), { name: 'shutdown', ok: false, detail: 'the service is shutting down' });
      assert.equal(report.checks.filter((c) => c.name === 'shutdown').length, 1);
    });

    it('tells listeners even when the service was already not ready, so streams can end', async () => {
      const monitor = new ReadinessMonitor([switchableCheck('kafka', false).check], options);
      await monitor.evaluate();
      const heard: ReadinessReport[] = [];
      monitor.onChange((report) => heard.push(report));
      monitor.drain();
      assert.equal(heard.length, 1);
      assert.equal(monitor.isDraining, true);
    });

    it('ignores an evaluation that was still running when draining began', async () => {
      const monitor = new ReadinessMonitor([switchableCheck('postgres', true).check], options);
      const running = monitor.evaluate();
      monitor.drain();
      assert.equal((await running).ready, false);
      assert.equal(monitor.current?.ready, false);
    });
  });
});
