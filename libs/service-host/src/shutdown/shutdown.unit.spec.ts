import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runShutdown, shutdownExitCode, type ShutdownStep } from './shutdown';

function recordingStep(name: string, ran: string[], behaviour: 'ok' | 'fail' | 'hang' = 'ok', delayMs = 0): ShutdownStep {
  return {
    name,
    run: async () => {
      if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
      ran.push(name);
      if (behaviour === 'fail') throw new Error(`${name} failed`);
      if (behaviour === 'hang') await new Promise(() => undefined);
    },
  };
}

describe('runShutdown', () => {
  describe('when every step succeeds', () => {
    it('runs the steps one after another in the given order and exits 0', async () => {
      const ran: string[] = [];
      // The first step is the slowest: a parallel run would finish it last.
      const outcome = await runShutdown([recordingStep('a', ran, 'ok', 30), recordingStep('b', ran), recordingStep('c', ran)], { timeoutMs: 1_000 });
      assert.deepEqual(ran, ['a', 'b', 'c']);
      assert.deepEqual(outcome, { completed: ['a', 'b', 'c'], failed: [] });
      assert.equal(shutdownExitCode(outcome), 0);
    });
  });

  describe('when a step fails', () => {
    it('still runs the steps after it, reports it, and exits 1', async () => {
      const ran: string[] = [];
      const reported: string[] = [];
      const outcome = await runShutdown([recordingStep('kafka', ran, 'fail'), recordingStep('postgres', ran)], {
        timeoutMs: 1_000,
        onStepFailed: (step) => reported.push(step),
      });
      assert.deepEqual(ran, ['kafka', 'postgres']);
      assert.deepEqual(outcome.completed, ['postgres']);
      assert.deepEqual(
        outcome.failed.map((f) => f.step),
        ['kafka'],
      );
      assert.deepEqual(reported, ['kafka']);
      assert.equal(shutdownExitCode(outcome), 1);
    });
  });

  describe('when a step hangs', () => {
    it('gives up at the deadline, names the stuck step, and exits 1', async () => {
      const ran: string[] = [];
      const started = Date.now();
      const outcome = await runShutdown([recordingStep('drain', ran), recordingStep('close servers', ran, 'hang'), recordingStep('telemetry', ran)], {
        timeoutMs: 80,
      });
      assert.ok(Date.now() - started < 1_000);
      assert.equal(outcome.timedOutIn, 'close servers');
      assert.deepEqual(outcome.completed, ['drain']);
      assert.equal(shutdownExitCode(outcome), 1);
    });
  });
});
