// Starts real Loopline services as child processes for the CLI's end-to-end tests, each on free
// ports, its own database and data folder, on the test run's Kafka and PostgreSQL — as
// `loopline up` would, but only the services a test needs. The CLI then talks to them over their
// public REST APIs only (tools never import services).
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { envPrefix, type ServiceName } from '@loopline/config';
import { createTestDatabase, eventually, freePort, testInfra, uniqueName } from '@loopline/testing';

export const repoRoot = resolve(__dirname, '..', '..', '..');
const cliEntry = join(repoRoot, 'bin', 'loopline.js');

export interface ServiceProcess {
  readonly name: ServiceName;
  readonly url: string;
  readonly grpcPort: number;
  stop(): Promise<void>;
}

/** Starts `services/<name>/src/main.ts`; resolves once its `readyPath` answers 200. */
export async function startServiceProcess(name: ServiceName, dataDir: string, env: Readonly<Record<string, string>> = {}, readyPath = '/health/ready'): Promise<ServiceProcess> {
  const infra = testInfra();
  const prefix = envPrefix(name);
  const httpPort = await freePort();
  const grpcPort = await freePort();
  const url = `http://127.0.0.1:${httpPort}`;
  const child: ChildProcess = spawn(process.execPath, ['-r', '@swc-node/register', join(repoRoot, 'services', name, 'src', 'main.ts')], {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LOOPLINE_HOST: '127.0.0.1',
      [`${prefix}HTTP_PORT`]: String(httpPort),
      [`${prefix}GRPC_PORT`]: String(grpcPort),
      LOOPLINE_POSTGRES_URL: await createTestDatabase(`cli_${name.replace(/-/g, '_')}`),
      LOOPLINE_KAFKA_BROKERS: infra.kafkaBrokers.join(','),
      LOOPLINE_DATA_DIR: join(dataDir, name),
      LOOPLINE_LOG_LEVEL: 'warn',
      ...env,
    },
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}): ${stderr}`);
      return (await fetch(`${url}${readyPath}`).catch(() => undefined))?.status === 200;
    },
    { timeoutMs: 120_000, intervalMs: 250, what: `${name} ready` },
  );
  return {
    name,
    url,
    grpcPort,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await new Promise<void>((resolvePromise) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          resolvePromise();
        }, 15_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolvePromise();
        });
      });
    },
  };
}

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `loopline <args>` as a user would, with only the given LOOPLINE_* variables (none from the
 * test run's own environment leak in) and a fixed actor. Asynchronous, so that the test's own
 * event loop (its HTTP connections) keeps running meanwhile.
 */
export function cli(env: Readonly<Record<string, string>>, ...args: string[]): Promise<CliResult> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('LOOPLINE_')));
  const child = spawn(process.execPath, [cliEntry, ...args], { cwd: repoRoot, env: { ...inherited, LOOPLINE_ACTOR: 'user:cli-test', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
  return new Promise((resolvePromise, reject) => {
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolvePromise({ status, stdout, stderr });
    });
  });
}

export function describeResult(result: CliResult): string {
  return `exit ${result.status}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}

export async function rest<T = Record<string, unknown>>(baseUrl: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: body === undefined ? { 'x-loopline-actor': 'user:cli-test-setup' } : { 'content-type': 'application/json', 'x-loopline-actor': 'user:cli-test-setup' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text === '' ? {} : JSON.parse(text)) as T };
}

export const testFolder = (name: string) => join(testInfra().dataDir, uniqueName(name));
