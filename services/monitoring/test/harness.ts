// Test harness of the monitoring service. Real: the monitoring service (in-process, or as a child
// process where a test kills it), Kafka, PostgreSQL, chDB, and the registry (a child process, for
// tests that need a model version). Stood in for: serving (its `PredictionLogged` events are
// published here, through the contract's codec) and the feature store's training-set download
// route (a real HTTP server serving a real Parquet file).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, createReadStream, mkdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { create, type JsonObject } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { encodeEvent, PredictionLoggedSchema, TrafficRole } from '@loopline/contracts';
import { createEventProducer, createKafkaClient, ensureTopics, type EventProducer } from '@loopline/messaging';
import { startService, type RunningService } from '@loopline/service-host';
import { createTestDatabase, eventually, freePort, startServiceProcess, testInfra, uniqueName } from '@loopline/testing';
import pino from 'pino';
import type { Kafka } from 'kafkajs';
import { loadConfig, type MonitoringConfig } from '../src/config';
import { monitoringService } from '../src/monitoring-service';

export const repoRoot = resolve(__dirname, '..', '..', '..');
export const predictionsTopic = 'loopline.serving.predictions.v1';
export const alertsTopic = 'loopline.monitoring.alerts.v1';

export async function monitoringEnv(dataDir: string, extra: Readonly<Record<string, string>> = {}): Promise<Record<string, string>> {
  const infra = testInfra();
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    LOOPLINE_HOST: '127.0.0.1',
    LOOPLINE_MONITORING_HTTP_PORT: String(await freePort()),
    LOOPLINE_MONITORING_GRPC_PORT: String(await freePort()),
    LOOPLINE_POSTGRES_URL: await createTestDatabase('monitoring'),
    LOOPLINE_KAFKA_BROKERS: infra.kafkaBrokers.join(','),
    LOOPLINE_DATA_DIR: dataDir,
    LOOPLINE_LOG_LEVEL: 'warn',
    LOOPLINE_MONITORING_CONSUMER_GROUP: uniqueName('monitoring-log'),
    LOOPLINE_MONITORING_EVALUATION_INTERVAL_MS: '300',
    LOOPLINE_MONITORING_FLUSH_MS: '200',
    // Nothing listens there: tests that need the registry pass its URL.
    LOOPLINE_REGISTRY_URL: `http://127.0.0.1:${await freePort()}`,
    LOOPLINE_FEATURE_STORE_URL: `http://127.0.0.1:${await freePort()}`,
    ...extra,
  };
}

export interface MonitoringUnderTest {
  readonly service: RunningService<MonitoringConfig>;
  readonly baseUrl: string;
  stop(): Promise<void>;
}

export async function startMonitoring(env: Record<string, string>): Promise<MonitoringUnderTest> {
  const service = await startService(monitoringService(() => loadConfig(env)));
  return {
    service,
    baseUrl: service.httpUrl,
    stop: async () => {
      await service.stop();
    },
  };
}

/** The monitoring service as a child process (`src/main.ts`), for tests that SIGKILL it. */
export function spawnMonitoring(env: Record<string, string>): { child: ChildProcess; baseUrl: string; stderr(): string } {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', join(repoRoot, 'services', 'monitoring', 'src', 'main.ts')], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  mkdirSync(env.LOOPLINE_DATA_DIR!, { recursive: true });
  const logFile = join(env.LOOPLINE_DATA_DIR!, `monitoring-${Date.now()}.log`);
  const keep = (chunk: Buffer) => {
    appendFileSync(logFile, chunk);
    stderr = (stderr + chunk.toString()).slice(-6_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return { child, baseUrl: `http://127.0.0.1:${env.LOOPLINE_MONITORING_HTTP_PORT}`, stderr: () => stderr };
}

export async function waitReady(baseUrl: string, child?: ChildProcess, stderr?: () => string): Promise<void> {
  await eventually(
    async () => {
      if (child && child.exitCode !== null) throw new Error(`the service exited (${child.exitCode}): ${stderr?.() ?? ''}`);
      const response = await fetch(`${baseUrl}/health/live`).catch(() => undefined);
      return response?.status === 200;
    },
    { timeoutMs: 90_000, intervalMs: 200, what: `${baseUrl} live` },
  );
}

// ---------------------------------------------------------------------------------------------
// Kafka

export async function kafkaForTests(): Promise<{ kafka: Kafka; producer: EventProducer; close(): Promise<void> }> {
  const logger = pino({ level: 'warn' });
  const kafka = createKafkaClient({ clientId: uniqueName('monitoring-test'), brokers: testInfra().kafkaBrokers }, logger);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, [
      { topic: predictionsTopic, numPartitions: 12, replicationFactor: 1 },
      { topic: 'loopline.feedback.labels.v1', numPartitions: 12, replicationFactor: 1 },
      { topic: alertsTopic, numPartitions: 3, replicationFactor: 1 },
    ]);
  } finally {
    await admin.disconnect();
  }
  const producer = createEventProducer(kafka, { logger });
  await producer.connect();
  return { kafka, producer, close: () => producer.disconnect() };
}

export interface PredictionSpec {
  readonly predictionId?: string;
  readonly modelName: string;
  readonly modelVersion: number;
  readonly role?: 'primary' | 'canary' | 'shadow';
  /** Column tensors: name → one value per row (sent as [batch, 1]). */
  readonly inputs: Record<string, (number | string | null)[]>;
  readonly outputs: JsonObject;
  readonly entityKeys?: Record<string, string>;
  readonly latencyMs?: number;
  readonly predictedAtMs: number;
}

const roles = { primary: TrafficRole.PRIMARY, canary: TrafficRole.CANARY, shadow: TrafficRole.SHADOW } as const;

export function predictionMessage(spec: PredictionSpec) {
  const predictionId = spec.predictionId ?? randomUUID();
  const inputs: JsonObject = {};
  for (const [name, values] of Object.entries(spec.inputs)) inputs[name] = values.map((value) => [value]);
  const message = create(PredictionLoggedSchema, {
    predictionId,
    modelName: spec.modelName,
    modelVersion: spec.modelVersion,
    alias: 'champion',
    trafficRole: roles[spec.role ?? 'primary'],
    inputs,
    outputs: spec.outputs,
    entityKeys: spec.entityKeys ?? {},
    latencyMs: spec.latencyMs ?? 1,
    predictedAt: timestampFromMs(spec.predictedAtMs),
  });
  const encoded = encodeEvent({ topic: predictionsTopic, key: spec.modelName, id: predictionId, source: '/loopline/serving', time: new Date(spec.predictedAtMs), message });
  return { predictionId, message: { topic: predictionsTopic, ...encoded } };
}

// ---------------------------------------------------------------------------------------------
// REST

export async function rest<T = Record<string, unknown>>(baseUrl: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text === '' ? {} : JSON.parse(text)) as T };
}

// ---------------------------------------------------------------------------------------------
// registry and feature store

/** The real registry, as a child process on the run's PostgreSQL and Kafka. */
export async function startRegistryProcess(dataDir: string): Promise<{ url: string; stop(): Promise<void> }> {
  const registry = await startServiceProcess('registry', { dataDir, database: 'monitoring_registry', readyTimeoutMs: 90_000 });
  return { url: registry.url, stop: () => registry.stop() };
}

/** Writes a Parquet file with chDB in a child process (chDB holds one data folder per process). */
export function makeParquet(file: string, selectSql: string, workDir: string): void {
  const run = spawnSync(process.execPath, ['-r', '@swc-node/register', join(__dirname, 'make-parquet.ts'), file, selectSql, workDir], { cwd: repoRoot, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`make-parquet failed: ${run.stderr}`);
}

/** The feature store's training-set download route, serving one Parquet file per id. */
export async function startTrainingSetServer(sets: ReadonlyMap<string, string>): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    requests.push(request.url ?? '');
    const match = /^\/v1\/training-sets\/([^/]+)\/data$/.exec(request.url ?? '');
    const file = match ? sets.get(decodeURIComponent(match[1]!)) : undefined;
    if (!file) {
      response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'unknown training set' }));
      return;
    }
    response.writeHead(200, { 'content-type': 'application/vnd.apache.parquet', 'content-length': String(statSync(file).size) });
    createReadStream(file).pipe(response);
  });
  await new Promise<void>((resolvePromise) => server.listen(0, '127.0.0.1', resolvePromise));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise<void>((resolvePromise) => server.close(() => resolvePromise())) };
}
