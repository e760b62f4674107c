// Test harness of the training service: the service in-process on the run's real PostgreSQL and
// Kafka; the real registry as a child process (services never import each other); and, standing
// in for the feature store, a small HTTP server that serves Parquet files made with chDB through
// the feature store's two training-set routes. Real: the training service, the registry, ONNX
// Runtime (in the registry's validation), PostgreSQL, Kafka, chDB. Stood in for: the feature store.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { startService, type RunningService } from '@loopline/service-host';
import { createTestDatabase, eventually, freePort, startServiceProcess, testInfra, uniqueName } from '@loopline/testing';
import { loadConfig, type TrainingConfig } from '../src/config';
import { trainingService } from '../src/training-service';

export const repoRoot = resolve(__dirname, '..', '..', '..');

export interface TrainingSetFixture {
  readonly id: string;
  readonly path: string;
  readonly rowCount: number;
  /** What the stand-in feature store says the set was built from. */
  readonly recipe: Record<string, unknown>;
}

/** A Parquet training set made by `make-parquet.ts` in a child process. */
export function makeTrainingSet(folder: string, name: string, rows: number, seed: number, kind: 'binary' | 'regression' = 'binary'): TrainingSetFixture {
  mkdirSync(folder, { recursive: true });
  const path = join(folder, `${name}.parquet`);
  const run = spawnSync(process.execPath, ['-r', '@swc-node/register', join(__dirname, 'make-parquet.ts'), path, String(rows), String(seed), kind], { cwd: repoRoot, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`make-parquet failed: ${run.stderr}`);
  const id = createHash('sha256').update(readFileSync(path)).digest('hex');
  const datasetVersionId = createHash('sha256').update(`entities/${name}`).digest('hex');
  const viewDatasetVersionId = createHash('sha256').update(`view/${name}`).digest('hex');
  return {
    id,
    path,
    rowCount: rows,
    recipe: {
      entities: { source: 'synthetic', versionId: datasetVersionId, eventTimeColumn: 'event_time' },
      features: ['x1', 'x2', 'x3', 'city'].map((feature) => ({ view: 'synthetic_stats', version: 2, feature, column: feature })),
      views: [{ view: 'synthetic_stats', version: 2, datasetVersionId: viewDatasetVersionId, pushHorizon: 0, ttlSeconds: null }],
    },
  };
}

/** Serves `GET /v1/training-sets/{id}` and `/v1/training-sets/{id}/data` like the feature store. */
export async function startFeatureStoreStandIn(sets: () => readonly TrainingSetFixture[]): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    requests.push(request.url ?? '');
    const match = /^\/v1\/training-sets\/([0-9a-f]{64})(\/data)?$/.exec(request.url ?? '');
    const set = match ? sets().find((candidate) => candidate.id === match[1]) : undefined;
    if (!match || !set) {
      response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'unknown training set', code: 'NOT_FOUND', details: {} }));
      return;
    }
    if (match[2]) {
      response.writeHead(200, { 'content-type': 'application/vnd.apache.parquet', 'content-length': String(statSync(set.path).size), 'x-loopline-sha256': set.id });
      createReadStream(set.path).pipe(response);
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: set.id, rowCount: set.rowCount, recipe: set.recipe, artifact: { sha256: set.id } }));
  });
  await new Promise<void>((resolvePromise) => server.listen(0, '127.0.0.1', resolvePromise));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise<void>((resolvePromise) => server.close(() => resolvePromise())) };
}

/** The real registry, as a child process on the run's PostgreSQL and Kafka. */
export async function startRegistryProcess(dataDir: string): Promise<{ url: string; process: ChildProcess; stop(): Promise<void> }> {
  const registry = await startServiceProcess('registry', { dataDir, database: 'training_registry', readyTimeoutMs: 60_000, stopGraceMs: 10_000 });
  return { url: registry.url, process: registry.child, stop: () => registry.stop() };
}

export interface TrainingUnderTest {
  readonly service: RunningService<TrainingConfig>;
  readonly baseUrl: string;
  readonly grpcAddress: string;
  stop(): Promise<void>;
}

export async function startTraining(options: { readonly registryUrl: string; readonly featureStoreUrl: string; readonly dataDir: string; readonly env?: Readonly<Record<string, string>> }): Promise<TrainingUnderTest> {
  const infra = testInfra();
  const env: Record<string, string> = {
    LOOPLINE_HOST: '127.0.0.1',
    LOOPLINE_TRAINING_HTTP_PORT: '0',
    LOOPLINE_TRAINING_GRPC_PORT: String(await freePort()),
    LOOPLINE_POSTGRES_URL: await createTestDatabase('training'),
    LOOPLINE_KAFKA_BROKERS: infra.kafkaBrokers.join(','),
    LOOPLINE_DATA_DIR: options.dataDir,
    LOOPLINE_LOG_LEVEL: 'warn',
    LOOPLINE_REGISTRY_URL: options.registryUrl,
    LOOPLINE_FEATURE_STORE_URL: options.featureStoreUrl,
    LOOPLINE_TRAINING_CODE_COMMIT: 'c0ffee1234567890',
    LOOPLINE_TRAINING_WORKERS: '2',
    // Task commands share one topic across the whole test run: only specs that test the executor
    // consume them, each in a group of its own and for its own pipeline names.
    LOOPLINE_TRAINING_TASKS: 'false',
    ...options.env,
  };
  const service = await startService(trainingService(() => loadConfig(env)));
  return {
    service,
    baseUrl: service.httpUrl,
    grpcAddress: service.grpcAddress,
    stop: async () => {
      await service.stop();
    },
  };
}

export async function rest<T = Record<string, unknown>>(baseUrl: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text === '' ? {} : JSON.parse(text)) as T };
}

export interface RunJson {
  readonly runId: string;
  readonly status: string;
  readonly metrics: Record<string, number>;
  readonly params: Record<string, string>;
  readonly tags: Record<string, string>;
  readonly artifacts: { name: string; sha256: string; sizeBytes: number }[];
  readonly registered: { modelName: string; version: number } | null;
  readonly model: { sha256: string } | null;
  readonly outputs: Record<string, unknown>;
  readonly error: { code: string; message: string } | null;
  readonly environmentLockSha256: string;
  readonly parentRunId: string | null;
}

/** Polls a run until it leaves RUNNING. */
export async function finishedRun(baseUrl: string, runId: string, timeoutMs = 90_000): Promise<RunJson> {
  let run: RunJson | undefined;
  await eventually(
    async () => {
      run = (await rest<RunJson>(baseUrl, 'GET', `/v1/runs/${runId}`)).body;
      return run.status !== 'RUNNING';
    },
    { timeoutMs, intervalMs: 200, what: `run ${runId} ended` },
  );
  return run!;
}

export const testDataDir = (name: string) => join(testInfra().dataDir, uniqueName(name));
