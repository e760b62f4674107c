// A Loopline service as a child process for end-to-end tests (services never import each other):
// `services/<name>/src/main.ts` through SWC on free ports, its own database and data folder, on
// the test run's Kafka and PostgreSQL; resolved once it answers ready, stopped with SIGTERM and,
// after a grace period, SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { envPrefix, type ServiceName } from '@loopline/config';
import { eventually } from './eventually';
import { freePort } from './free-port';
import { createTestDatabase, testInfra } from './test-infra';

const repoRoot = resolve(__dirname, '..', '..', '..');

export interface ServiceProcess {
  readonly name: ServiceName;
  readonly url: string;
  readonly grpcPort: number;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

export interface ServiceProcessOptions {
  /** The service's data folder (`LOOPLINE_DATA_DIR`). */
  readonly dataDir: string;
  /** Prefix of its fresh database (`createTestDatabase`). */
  readonly database: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly readyPath?: string;
  readonly readyTimeoutMs?: number;
  /** How long `stop` waits after SIGTERM before SIGKILL. */
  readonly stopGraceMs?: number;
}

export async function startServiceProcess(name: ServiceName, options: ServiceProcessOptions): Promise<ServiceProcess> {
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
      LOOPLINE_POSTGRES_URL: await createTestDatabase(options.database),
      LOOPLINE_KAFKA_BROKERS: infra.kafkaBrokers.join(','),
      LOOPLINE_DATA_DIR: options.dataDir,
      LOOPLINE_LOG_LEVEL: 'warn',
      ...options.env,
    },
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
  const readyPath = options.readyPath ?? '/health/ready';
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}): ${stderr}`);
      return (await fetch(`${url}${readyPath}`).catch(() => undefined))?.status === 200;
    },
    { timeoutMs: options.readyTimeoutMs ?? 120_000, intervalMs: 250, what: `${name} ready` },
  );
  return { name, url, grpcPort, child, stop: () => stopChildProcess(child, options.stopGraceMs) };
}

/** SIGTERM, then SIGKILL if the process has not exited after `graceMs`; resolves once it is gone. */
export async function stopChildProcess(child: ChildProcess, graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await new Promise<void>((resolvePromise) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolvePromise();
    }, graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolvePromise();
    });
  });
}
