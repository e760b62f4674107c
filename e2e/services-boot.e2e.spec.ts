/**
 * Every service boots as its own process against the real Kafka and PostgreSQL of the test run
 * (ClickHouse is chDB inside the service), proves its health, metrics, OpenAPI and gRPC health
 * surfaces, and stops cleanly on SIGTERM. Real: the service processes, Kafka, PostgreSQL, chDB.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { credentials, loadPackageDefinition, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { envPrefix, type ServiceName } from '@loopline/config';
import { isPortFree } from '@loopline/infra';
import { createTestDatabase, eventually, freePort, testInfra, uniqueName } from '@loopline/testing';

const root = resolve(__dirname, '..');

type Dependency = 'postgres' | 'kafka' | 'clickhouse' | 'models';

/**
 * What each service must find before it calls itself ready (DESIGN.md: who owns what), as the
 * names of its readiness checks. Serving owns nothing durable: it is ready once it has loaded
 * what the registry says to serve, so its row starts a real registry first.
 */
const services: readonly { readonly name: ServiceName; readonly dependencies: readonly Dependency[]; readonly needsRegistry?: boolean }[] = [
  { name: 'ingestion', dependencies: ['postgres', 'kafka'] },
  { name: 'feature-store', dependencies: ['postgres', 'kafka', 'clickhouse'] },
  { name: 'orchestration', dependencies: ['postgres', 'kafka'] },
  { name: 'training', dependencies: ['postgres', 'kafka'] },
  { name: 'registry', dependencies: ['postgres', 'kafka'] },
  { name: 'serving', dependencies: ['models'], needsRegistry: true },
  { name: 'monitoring', dependencies: ['postgres', 'kafka', 'clickhouse'] },
];

const dependencyNames: Record<Dependency, string> = { postgres: 'Postgres', kafka: 'Kafka', clickhouse: 'ClickHouse', models: 'the models the registry names' };

const bootDeadlineMs = 20_000;
const exitDeadlineMs = 15_000;

/** A service process and what it printed, for assertions and for failure messages. */
interface ServiceProcess {
  readonly child: ChildProcess;
  readonly httpPort: number;
  readonly grpcPort: number;
  readonly baseUrl: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
  stderr(): string;
}

/** The environment of a service: none of the caller's LOOPLINE_/OTEL_ settings leak in. */
function serviceEnv(overrides: Record<string, string>): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('LOOPLINE_') && !key.startsWith('OTEL_')));
  return { ...inherited, LOOPLINE_LOG_LEVEL: 'info', ...overrides };
}

/** Spawns `services/<name>/src/main.ts` on free ports; `env` comes last, so it may override the ports. */
async function spawnService(name: ServiceName, env: Record<string, string>): Promise<ServiceProcess> {
  const httpPort = await freePort();
  const grpcPort = await freePort();
  const prefix = envPrefix(name);
  const child = spawn(process.execPath, ['-r', '@swc-node/register', join('services', name, 'src', 'main.ts')], {
    cwd: root,
    env: serviceEnv({ [`${prefix}HTTP_PORT`]: String(httpPort), [`${prefix}GRPC_PORT`]: String(grpcPort), ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: string[] = [];
  const err: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => out.push(chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => err.push(chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolvePromise) =>
    child.once('exit', (code, signal) => resolvePromise({ code, signal })),
  );
  return {
    child,
    httpPort,
    grpcPort,
    baseUrl: `http://127.0.0.1:${httpPort}`,
    exited,
    output: () => `--- stdout ---\n${out.join('').slice(-4_000)}\n--- stderr ---\n${err.join('').slice(-4_000)}`,
    stderr: () => err.join(''),
  };
}

async function exitWithin(service: ServiceProcess, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`process did not exit within ${ms} ms\n${service.output()}`)), ms);
  });
  try {
    return await Promise.race([service.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Last resort for a test that failed half-way: never leave a service running after the spec. */
function killIfRunning(service: ServiceProcess | undefined): void {
  if (service && service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGKILL');
}

interface HealthClient {
  Check(request: { service: string }, options: { deadline: number }, callback: (error: ServiceError | null, response: { status: string }) => void): void;
  close(): void;
}

const healthPackage = loadPackageDefinition(loadSync(join(root, 'proto', 'grpc', 'health', 'v1', 'health.proto'), { enums: String, defaults: true })) as unknown as {
  grpc: { health: { v1: { Health: new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => HealthClient } } };
};

async function grpcHealthStatus(port: number, service: string): Promise<string> {
  const client = new healthPackage.grpc.health.v1.Health(`127.0.0.1:${port}`, credentials.createInsecure());
  try {
    return await new Promise<string>((resolvePromise, reject) =>
      client.Check({ service }, { deadline: Date.now() + 3_000 }, (error, response) => (error ? reject(error) : resolvePromise(response.status))),
    );
  } finally {
    client.close();
  }
}

function describeDependencies(dependencies: readonly Dependency[]): string {
  const names = dependencies.map((dependency) => dependencyNames[dependency]);
  return names.length === 1 ? `${names[0]} answers` : `${names.slice(0, -1).join(', ')} and ${names.at(-1)} answer`;
}

describe('services boot', () => {
  for (const { name, dependencies, needsRegistry } of services) {
    describe(`${name} service`, () => {
      let service: ServiceProcess | undefined;
      let registry: ServiceProcess | undefined;

      before(async () => {
        const infra = testInfra();
        const env: Record<string, string> = {
          LOOPLINE_KAFKA_BROKERS: infra.kafkaBrokers.join(','),
          LOOPLINE_DATA_DIR: join(infra.dataDir, uniqueName(`boot_${name}`)),
        };
        if (dependencies.includes('postgres')) env.LOOPLINE_POSTGRES_URL = await createTestDatabase(`boot_${name}`, infra);
        if (needsRegistry) {
          registry = await spawnService('registry', {
            LOOPLINE_KAFKA_BROKERS: env.LOOPLINE_KAFKA_BROKERS,
            LOOPLINE_DATA_DIR: env.LOOPLINE_DATA_DIR,
            LOOPLINE_POSTGRES_URL: await createTestDatabase('boot_registry_for_serving', infra),
          });
          env.LOOPLINE_REGISTRY_URL = registry.baseUrl;
        }
        service = await spawnService(name, env);
      });

      after(() => {
        killIfRunning(service);
        killIfRunning(registry);
      });

      it(`reports ready when ${describeDependencies(dependencies)}`, async () => {
        const running = service!;
        const body = await eventually(
          async () => {
            const response = await fetch(`${running.baseUrl}/health/ready`);
            const payload = (await response.json()) as { status: string; checks: { name: string; ok: boolean; detail: string }[] };
            if (response.status !== 200) throw new Error(`ready answered ${response.status}: ${JSON.stringify(payload)}`);
            return payload;
          },
          { timeoutMs: bootDeadlineMs, intervalMs: 200, what: `${name} ready\n${running.output()}` },
        );
        assert.equal(body.status, 'ready');
        assert.deepEqual(body.checks.map((check) => check.name).sort(), [...dependencies].sort());
        assert.ok(body.checks.every((check) => check.ok));
      });

      it('answers liveness', async () => {
        const response = await fetch(`${service!.baseUrl}/health/live`);
        assert.equal(response.status, 200);
        assert.deepEqual(await response.json(), { status: 'live' });
      });

      it('exposes Prometheus metrics with process and HTTP request metrics', async () => {
        const response = await fetch(`${service!.baseUrl}/metrics`);
        assert.equal(response.status, 200);
        assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
        const text = await response.text();
        assert.match(text, /^process_cpu_seconds_total /m);
        assert.match(text, /^loopline_http_requests_total\{method="GET",route="\/health\/live",status="200"\} 1$/m);
      });

      it('publishes an OpenAPI document listing its health routes', async () => {
        const response = await fetch(`${service!.baseUrl}/openapi.json`);
        assert.equal(response.status, 200);
        const document = (await response.json()) as { openapi: string; paths: Record<string, unknown> };
        assert.match(document.openapi, /^3\./);
        for (const path of ['/health/live', '/health/ready', '/metrics', '/openapi.json']) assert.ok(path in document.paths, `${path} in ${Object.keys(document.paths).join(', ')}`);
      });

      it('answers the gRPC health check with SERVING', async () => {
        assert.equal(await grpcHealthStatus(service!.grpcPort, ''), 'SERVING');
        assert.equal(await grpcHealthStatus(service!.grpcPort, `loopline.${name}`), 'SERVING');
        await assert.rejects(grpcHealthStatus(service!.grpcPort, 'loopline.nothing'), /NOT_FOUND/);
      });

      it('exits 0 on SIGTERM and frees its ports', async () => {
        const running = service!;
        running.child.kill('SIGTERM');
        const { code, signal } = await exitWithin(running, exitDeadlineMs);
        assert.deepEqual({ code, signal }, { code: 0, signal: null }, running.output());
        assert.match(running.output(), /"msg":"stopped cleanly"/);
        assert.equal(await isPortFree('127.0.0.1', running.httpPort), true, `HTTP port ${running.httpPort} still bound`);
        assert.equal(await isPortFree('127.0.0.1', running.grpcPort), true, `gRPC port ${running.grpcPort} still bound`);
      });
    });
  }

  describe('registry service without LOOPLINE_POSTGRES_URL', () => {
    let service: ServiceProcess | undefined;
    after(() => killIfRunning(service));

    it('boots, answers liveness, and reports not ready naming the missing key', async () => {
      const infra = testInfra();
      service = await spawnService('registry', {
        LOOPLINE_KAFKA_BROKERS: infra.kafkaBrokers.join(','),
        LOOPLINE_DATA_DIR: join(infra.dataDir, uniqueName('boot_registry_no_pg')),
      });
      const running = service;
      await eventually(async () => (await fetch(`${running.baseUrl}/health/live`)).status === 200, {
        timeoutMs: bootDeadlineMs,
        intervalMs: 200,
        what: `registry live\n${running.output()}`,
      });
      const response = await fetch(`${running.baseUrl}/health/ready`);
      assert.equal(response.status, 503);
      const body = (await response.json()) as { status: string; checks: { name: string; ok: boolean; detail: string }[] };
      assert.equal(body.status, 'not_ready');
      assert.deepEqual(
        body.checks.find((check) => check.name === 'postgres'),
        { name: 'postgres', ok: false, detail: 'LOOPLINE_POSTGRES_URL is not configured' },
      );
      assert.equal(await grpcHealthStatus(running.grpcPort, ''), 'NOT_SERVING');

      running.child.kill('SIGTERM');
      assert.equal((await exitWithin(running, exitDeadlineMs)).code, 0, running.output());
    });
  });

  describe('registry service with an invalid port', () => {
    it('exits 1 and names the invalid key on stderr', async () => {
      const service = await spawnService('registry', { LOOPLINE_REGISTRY_HTTP_PORT: 'abc' });
      try {
        const { code } = await exitWithin(service, exitDeadlineMs);
        assert.equal(code, 1, service.output());
        assert.match(service.stderr(), /LOOPLINE_REGISTRY_HTTP_PORT/);
      } finally {
        killIfRunning(service);
      }
    });
  });
});
