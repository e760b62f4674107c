// A worker killed mid-task (SIGKILL of its process group: the worker and the command it runs):
// the task's result never comes, its deadline passes (DEADLINE_EXCEEDED), it is retried with the
// same idempotency key, another worker takes the expired claim and runs it, and the run
// completes with the effect exactly once.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually, testInfra, uniqueName } from '@loopline/testing';
import { applyYaml, orchestrationEnv, spawnWorker, startOrchestration, startRun, waitForEnd, type OrchestrationUnderTest } from './harness';

describe('Worker crash (e2e)', () => {
  let orchestration: OrchestrationUnderTest;
  const workers: ChildProcess[] = [];
  const folder = join(testInfra().dataDir, uniqueName('crash'));

  before(async () => {
    // The service runs no worker of its own: the workers are child processes.
    const env = await orchestrationEnv({ LOOPLINE_ORCHESTRATION_WORKER: 'false', LOOPLINE_ORCHESTRATION_WORKER_LEASE_MS: '1500' });
    orchestration = await startOrchestration(env);
  });

  after(async () => {
    for (const worker of workers) {
      if (worker.exitCode !== null || worker.signalCode !== null || !worker.pid) continue;
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      process.kill(-worker.pid, 'SIGTERM');
      await exited;
    }
    await orchestration?.stop();
  });

  it('times out the lost task, retries it on another worker, and completes with one effect', async () => {
    const yaml = `
name: crash
steps:
  - id: effect
    kind: command
    timeout: 4s
    retries: { limit: 2, backoff: 0s }
    command: ["sh", "-c", "mkdir -p ${folder}; echo $LOOPLINE_ATTEMPT >> ${folder}/started; sleep 2; echo done >> ${folder}/effect"]
`;
    assert.equal((await applyYaml(orchestration.baseUrl, yaml)).status, 201);
    const first = spawnWorker(orchestration.env);
    workers.push(first);
    const run = await startRun(orchestration.baseUrl, 'crash');
    await eventually(() => existsSync(join(folder, 'started')), { timeoutMs: 30_000, what: 'the first worker started the command' });
    process.kill(-first.pid!, 'SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));

    workers.push(spawnWorker(orchestration.env));
    const done = await waitForEnd(orchestration.baseUrl, run.runId, 60_000);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.tasks, null, 1));
    assert.equal(readFileSync(join(folder, 'effect'), 'utf8'), 'done\n', 'the effect happened exactly once');
    const attempts = done.tasks[0]!.attempts;
    assert.equal(attempts.at(-1)!.status, 'succeeded');
    assert.ok(attempts.some((attempt) => attempt.status === 'timed_out' && attempt.error?.code === 'DEADLINE_EXCEEDED'), JSON.stringify(attempts));
    assert.equal(new Set(attempts.map((attempt) => attempt.idempotencyKey)).size, 1, 'a retry after a timeout keeps the key');
  });
});
