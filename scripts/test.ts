/**
 * The test command (`npm test [-- <spec files…>]`): starts the real infrastructure once for the
 * run — Kafka (KRaft) and PostgreSQL as child processes, in a folder of the run's own and on free
 * ports, so neither a running `loopline up` nor another test run is disturbed — runs every spec with node's test runner, stops the
 * infrastructure and ends with one machine-readable line: `N passed, N failed`.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { startInfrastructure, stopInfrastructure } from '@loopline/infra';
import { freePort, testInfraEnv } from '@loopline/testing';

const root = resolve(__dirname, '..');
const specRoots = ['libs', 'services', 'tools', 'e2e', 'bench'];

function findSpecs(dir: string, found: string[] = []): string[] {
  if (!existsSync(dir)) return found;
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry.startsWith('.')) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) findSpecs(path, found);
    else if (entry.endsWith('.spec.ts')) found.push(path);
  }
  return found;
}

function log(line: string): void {
  console.log(`[test-infra] ${line}`);
}

async function main(): Promise<number> {
  const requested = process.argv.slice(2);
  const specs = (requested.length > 0 ? requested.map((file) => resolve(file)) : specRoots.flatMap((dir) => findSpecs(join(root, dir)))).sort();
  if (specs.length === 0) {
    console.error('no spec files found');
    return 1;
  }
  const env = process.env;
  // Each run has its own folder and free ports, so two runs on one machine never collide; runs
  // that were killed are cleaned up here (their brokers stopped, their folders removed).
  await cleanUpAbandonedRuns();
  const dataDir = resolve(env.LOOPLINE_TEST_DATA_DIR ?? join(tmpdir(), `${runPrefix}${process.pid}`));
  await stopInfrastructure(dataDir, log);
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, 'runner.pid'), String(process.pid));

  const started = Date.now();
  const infra = await startInfrastructure({
    dataDir,
    kafka: {
      port: await portFromEnv(env.LOOPLINE_TEST_KAFKA_PORT),
      controllerPort: await portFromEnv(env.LOOPLINE_TEST_KAFKA_CONTROLLER_PORT),
    },
    postgres: { port: await portFromEnv(env.LOOPLINE_TEST_POSTGRES_PORT) },
    log,
  });
  log(`Kafka ${infra.kafkaBrokers.join(',')} and PostgreSQL ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const countsFile = join(dataDir, 'test-counts.json');
  let exitCode = 1;
  try {
    exitCode = await runNodeTest(specs, countsFile, {
      ...env,
      [testInfraEnv.kafkaBrokers]: infra.kafkaBrokers.join(','),
      [testInfraEnv.postgresAdminUrl]: infra.postgresUrl('postgres'),
      [testInfraEnv.dataDir]: join(dataDir, 'files'),
    });
  } finally {
    await stopInfrastructure(dataDir, log);
  }
  const counts = existsSync(countsFile)
    ? (JSON.parse(readFileSync(countsFile, 'utf8')) as { passed: number; failed: number; skipped: number })
    : { passed: 0, failed: 1, skipped: 0 };
  if (!env.LOOPLINE_TEST_KEEP_DATA) rmSync(dataDir, { recursive: true, force: true });
  console.log(`${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
  return exitCode !== 0 || counts.failed > 0 ? 1 : 0;
}

const runPrefix = 'loopline-test-';

/** A port given in the environment, or a free one chosen by the kernel. */
async function portFromEnv(value: string | undefined): Promise<number> {
  return value ? Number(value) : freePort();
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function cleanUpAbandonedRuns(): Promise<void> {
  for (const entry of readdirSync(tmpdir())) {
    // Only folders this script named (prefix + the runner's pid); others belong to someone else.
    if (!new RegExp(`^${runPrefix}\\d+$`).test(entry)) continue;
    const dir = join(tmpdir(), entry);
    const pidFile = join(dir, 'runner.pid');
    const runner = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : NaN;
    if (Number.isInteger(runner) && processAlive(runner)) continue;
    await stopInfrastructure(dir, log);
    rmSync(dir, { recursive: true, force: true });
  }
}

function runNodeTest(specs: string[], countsFile: string, env: NodeJS.ProcessEnv): Promise<number> {
  console.log(`running ${specs.length} spec files:\n${specs.map((spec) => `  ${relative(root, spec)}`).join('\n')}`);
  const args = [
    '--test',
    `--test-concurrency=${env.LOOPLINE_TEST_CONCURRENCY ?? '1'}`,
    '--require', '@swc-node/register',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    `--test-reporter=${join(__dirname, 'count-reporter.mjs')}`, `--test-reporter-destination=${countsFile}`,
    ...specs,
  ];
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: 'inherit' });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolvePromise(code ?? (signal ? 1 : 0));
    });
  });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.stack ?? error.message : error);
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
