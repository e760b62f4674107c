// Starts orchestration in-process on the test run's real PostgreSQL and Kafka and talks to it as
// a client would (REST with fetch, gRPC with a client generated from the .proto at run time).
// Which parts are real: all of them — the service, its worker's child processes, Postgres, Kafka.
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { startService, type RunningService } from '@loopline/service-host';
import { createTestDatabase, eventually, freePort, grpcTestClient, testInfra, uniqueName, unary, type GrpcTestClient } from '@loopline/testing';
import { loadConfig, type OrchestrationConfig } from '../src/config';
import { OrchestrationBackground } from '../src/adapters/kafka/orchestration-background';
import { orchestrationService } from '../src/orchestration-service';
import type { RunView } from '../src/application/run-view';

export interface OrchestrationUnderTest {
  readonly service: RunningService<OrchestrationConfig>;
  readonly baseUrl: string;
  readonly grpcAddress: string;
  readonly env: Readonly<Record<string, string>>;
  readonly background: OrchestrationBackground;
  stop(): Promise<void>;
}

/** Environment of one orchestration deployment under test (its own database and consumer groups). */
export async function orchestrationEnv(overrides: Record<string, string> = {}): Promise<Record<string, string>> {
  const infra = testInfra();
  return {
    LOOPLINE_HOST: '127.0.0.1',
    LOOPLINE_ORCHESTRATION_HTTP_PORT: '0',
    LOOPLINE_ORCHESTRATION_GRPC_PORT: String(await freePort()),
    LOOPLINE_POSTGRES_URL: await createTestDatabase('orchestration'),
    LOOPLINE_KAFKA_BROKERS: infra.kafkaBrokers.join(','),
    LOOPLINE_DATA_DIR: join(infra.dataDir, uniqueName('orchestration')),
    LOOPLINE_LOG_LEVEL: 'warn',
    LOOPLINE_ORCHESTRATION_CONSUMER_GROUP_PREFIX: uniqueName('orch'),
    LOOPLINE_ORCHESTRATION_TICK_MS: '100',
    LOOPLINE_ORCHESTRATION_RESULT_GRACE_MS: '1000',
    LOOPLINE_ORCHESTRATION_TRIGGER_REFRESH_MS: '1000',
    LOOPLINE_CODE_COMMIT: 'test-commit',
    ...overrides,
  };
}

export async function startOrchestration(env: Record<string, string>): Promise<OrchestrationUnderTest> {
  const service = await startService(orchestrationService(() => loadConfig(env)));
  const background = service.app.get(OrchestrationBackground);
  await eventually(() => background.whenStarted.then(() => true), { timeoutMs: 60_000, what: 'orchestration consumers started' });
  return {
    service,
    baseUrl: service.httpUrl,
    grpcAddress: service.grpcAddress,
    env,
    background,
    stop: async () => {
      const outcome = await service.stop(20_000);
      if (outcome.failed.length > 0) throw new Error(`orchestration stopped with failed steps: ${outcome.failed.map((failure) => failure.step).join(', ')}`);
    },
  };
}

/** The standalone worker (src/worker-main.ts) as a child process leading its own process group. */
export function spawnWorker(env: Record<string, string>): ChildProcess {
  const root = resolve(__dirname, '../../..');
  const child = spawn(process.execPath, ['-r', '@swc-node/register', join(__dirname, '../src/worker-main.ts')], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
  });
  return child;
}

export interface JsonResponse<T = Record<string, unknown>> {
  readonly status: number;
  readonly body: T;
}

export async function rest<T = Record<string, unknown>>(baseUrl: string, method: string, path: string, body?: unknown): Promise<JsonResponse<T>> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: body === undefined ? { 'x-loopline-actor': 'user:test' } : { 'content-type': 'application/json', 'x-loopline-actor': 'user:test' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text === '' ? {} : JSON.parse(text)) as T };
}

export async function applyYaml(baseUrl: string, yaml: string): Promise<JsonResponse> {
  return rest(baseUrl, 'POST', '/v1/pipelines', { yaml });
}

export async function startRun(baseUrl: string, pipeline: string, params: Record<string, unknown> = {}): Promise<RunView> {
  const response = await rest<RunView>(baseUrl, 'POST', `/v1/pipelines/${pipeline}/runs`, { params });
  if (response.status !== 201) throw new Error(`start failed: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

/** Long-polls the run until it ends. */
export async function waitForEnd(baseUrl: string, runId: string, timeoutMs = 30_000): Promise<RunView> {
  const deadline = Date.now() + timeoutMs;
  let revision = 0;
  for (;;) {
    const { body } = await rest<RunView>(baseUrl, 'GET', `/v1/runs/${runId}?afterRevision=${revision}&waitMs=5000`);
    if (['succeeded', 'failed', 'cancelled'].includes(body.status)) return body;
    if (Date.now() > deadline) throw new Error(`run ${runId} still ${body.status} after ${timeoutMs} ms: ${JSON.stringify(body.tasks.map((task) => [task.taskId, task.status]))}`);
    revision = body.revision;
  }
}

export type OrchestrationClient = GrpcTestClient;

export function grpcClient(address: string): OrchestrationClient {
  return grpcTestClient('loopline/orchestration/v1/orchestration_service.proto', 'loopline.orchestration.v1.OrchestrationService', address);
}

export { unary };
