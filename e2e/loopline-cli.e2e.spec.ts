/**
 * The main job as a person runs it: `loopline up` brings real Kafka, PostgreSQL and the seven
 * services up in the foreground, `status` sees them, Ctrl-C (SIGINT) stops everything with no
 * process left; `up --detach` starts them again from the same data folder and `down` stops them.
 * Real: every process. Its own data folder and free ports, beside the test run's infrastructure.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { envPrefix, serviceNames } from '@loopline/config';
import { infrastructureLayout, isOurProcessAlive, processGroupMembers, readPidRecord, type PidRecord } from '@loopline/infra';
import { eventually, platformEnv, testInfra, uniqueName } from '@loopline/testing';

const root = resolve(__dirname, '..');
const cli = join(root, 'bin', 'loopline.js');
const components = ['kafka', 'postgres', ...serviceNames];

describe('the loopline command', () => {
  const dataDir = join(testInfra().dataDir, uniqueName('cli'));
  let env: NodeJS.ProcessEnv;

  before(async () => {
    env = await platformEnv(dataDir, { LOOPLINE_KAFKA_HEAP_MB: '256' });
  });

  after(() => {
    spawnSync(process.execPath, [cli, 'down'], { env, encoding: 'utf8' });
  });

  function run(...args: string[]) {
    return spawnSync(process.execPath, [cli, ...args], { env, encoding: 'utf8', timeout: 180_000 });
  }

  function records(): PidRecord[] {
    const layout = infrastructureLayout(dataDir);
    return components.flatMap((name) => {
      const record = readPidRecord(layout.pidFile(name));
      return record ? [record] : [];
    });
  }

  function assertNothingLeft(before: readonly PidRecord[]): void {
    assert.equal(before.length, components.length, 'every component had been recorded');
    for (const record of before) {
      assert.equal(isOurProcessAlive(record), false, `${record.name} (pid ${record.pid}) still runs`);
      assert.deepEqual(processGroupMembers(record.pid), [], `${record.name} left child processes`);
    }
    assert.deepEqual(readdirSync(join(dataDir, 'run')), [], 'no pid file is left');
  }

  describe('when started in the foreground and interrupted', () => {
    it('brings everything up healthy, reports it, and Ctrl-C leaves no process behind', async () => {
      const up = spawn(process.execPath, [cli, 'up'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      up.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      up.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      let exitCode: number | null | undefined;
      const exited = new Promise<number | null>((resolvePromise) =>
        up.on('exit', (code) => {
          exitCode = code;
          resolvePromise(code);
        }),
      );

      // Ready, or exited during start-up (a failure to report at once, not after the timeout).
      const state = await eventually(() => (exitCode !== undefined ? `exited with ${exitCode}` : output.includes('streaming service logs') && 'ready'), {
        timeoutMs: 150_000,
        what: 'loopline up ready',
      }).catch((error: Error) => {
        up.kill('SIGINT');
        return error.message;
      });
      assert.equal(state, 'ready', `loopline up: ${state}\n${output}`);
      for (const service of serviceNames) {
        assert.match(output, new RegExp(`${service}\\s+http://127\\.0\\.0\\.1:${env[`${envPrefix(service)}HTTP_PORT`]}`));
      }
      assert.match(output, new RegExp(`online http://127\\.0\\.0\\.1:${env.LOOPLINE_FEATURE_STORE_ONLINE_HTTP_PORT}`));

      const status = run('status');
      assert.equal(status.status, 0, status.stdout + status.stderr);
      for (const name of components) assert.match(status.stdout, new RegExp(`^${name}\\s+running\\s+pid \\d+`, 'm'));

      const registryPort = env[`${envPrefix('registry')}HTTP_PORT`];
      const ready = await fetch(`http://127.0.0.1:${registryPort}/health/ready`);
      assert.equal(ready.status, 200);

      const running = records();
      up.kill('SIGINT');
      assert.equal(await exited, 130, output);
      assertNothingLeft(running);

      const after = run('status');
      assert.equal(after.status, 3);
      for (const name of components) assert.match(after.stdout, new RegExp(`^${name}\\s+stopped`, 'm'));
    });
  });

  describe('when started detached and stopped with down', () => {
    it('starts again from the same data folder and stops everything', () => {
      const up = run('up', '--detach');
      assert.equal(up.status, 0, up.stdout + up.stderr);
      assert.match(up.stdout, /everything is up in [\d.]+ s/);
      const running = records();

      const again = run('up', '--detach');
      assert.equal(again.status, 0, again.stdout + again.stderr);
      assert.equal((again.stdout.match(/already running \(pid \d+\), reusing it/g) ?? []).length, components.length, 'a second up reuses everything');

      const down = run('down');
      assert.equal(down.status, 0, down.stdout + down.stderr);
      assertNothingLeft(running);
    });
  });

  describe('when the configuration is invalid', () => {
    it('exits 1 naming the bad setting', () => {
      const result = spawnSync(process.execPath, [cli, 'status'], { env: { ...env, LOOPLINE_POSTGRES_PORT: 'many' }, encoding: 'utf8' });
      assert.equal(result.status, 1);
      assert.match(result.stderr, /LOOPLINE_POSTGRES_PORT/);
    });
  });
});
