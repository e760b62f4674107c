// Starts real Loopline services as child processes for the CLI's end-to-end tests, each on free
// ports, its own database and data folder, on the test run's Kafka and PostgreSQL — as
// `loopline up` would, but only the services a test needs. The CLI then talks to them over their
// public REST APIs only (tools never import services).
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { ServiceName } from '@loopline/config';
import { startServiceProcess as startTestServiceProcess, testInfra, uniqueName, type ServiceProcess } from '@loopline/testing';

export type { ServiceProcess };

export const repoRoot = resolve(__dirname, '..', '..', '..');
const cliEntry = join(repoRoot, 'bin', 'loopline.js');

/** Starts `services/<name>/src/main.ts` in its own folder of `dataDir`; resolves once its `readyPath` answers 200. */
export function startServiceProcess(name: ServiceName, dataDir: string, env: Readonly<Record<string, string>> = {}, readyPath = '/health/ready'): Promise<ServiceProcess> {
  return startTestServiceProcess(name, { dataDir: join(dataDir, name), database: `cli_${name.replace(/-/g, '_')}`, env, readyPath });
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
