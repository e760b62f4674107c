// Starts the feature store in-process on the test run's real PostgreSQL and Kafka and on an
// embedded chDB, beside a stand-in for the ingestion service: a small HTTP server that answers
// the two ingestion routes the feature store uses with Parquet files the test wrote (through the
// same chDB). Which parts are real: the service, Postgres, Kafka, ClickHouse, the HTTP client of
// ingestion; only ingestion itself is stood in for. With `datasetAccess: 'ingestion-url'` the
// data route is fetched by ClickHouse itself (`url()`), as a ClickHouse server would.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { credentials, type ServiceError } from '@grpc/grpc-js';
import { Client } from 'pg';
import type { ClickHouseClient } from '@clickhouse/client';
import { eventually } from '@loopline/testing';
import { INFRASTRUCTURE, startService, type Infrastructure, type RunningService } from '@loopline/service-host';
import type { DatasetAccess } from '../src/application/ports';
import { loadConfig, type FeatureStoreConfig } from '../src/config';
import { featureStoreService } from '../src/feature-store-service';
import { ONLINE_SERVER } from '../src/adapters/tokens';
import { featureServingPackage } from '../src/adapters/grpc/feature-serving-package';
import type { OnlineServer, OnlineServerAddresses } from '../src/adapters/online-server/online-server';

export interface DatasetVersion {
  readonly source: string;
  readonly versionId: string;
  readonly sha256: string;
  readonly path: string;
  readonly eventTimeColumn: string;
}

/** The stand-in for ingestion: dataset versions are Parquet files registered by the test. */
export class FakeIngestion {
  private readonly versions = new Map<string, DatasetVersion & { readonly createdAt: string; readonly eventTimeRange: { start: string; end: string } | null }>();
  private server: Server | undefined;
  private lastCreatedMs = 0;
  url = '';
  requests = 0;
  /** Every request of a version's bytes (`/data`): who asked (user agent) and how. */
  readonly dataRequests: { readonly method: string; readonly userAgent: string; readonly versionId: string }[] = [];
  /** While set, the data route answers 503 (ingestion's storage unreachable). */
  dataUnavailable = false;

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      this.requests += 1;
      const json = (status: number, body: unknown) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      const path = (request.url ?? '').split('?')[0]!;
      const list = /^\/v1\/sources\/([^/]+)\/versions$/.exec(path);
      if (list) {
        const source = decodeURIComponent(list[1]!);
        const versions = [...this.versions.values()].filter((version) => version.source === source).reverse();
        if (versions.length === 0) return json(404, { error: `unknown source "${source}"` });
        return json(200, { versions: versions.map((version) => this.describe(version)) });
      }
      const match = /^\/v1\/sources\/([^/]+)\/versions\/([^/]+)(\/data)?$/.exec(path);
      const source = match ? decodeURIComponent(match[1]!) : '';
      const wanted = match ? decodeURIComponent(match[2]!) : '';
      // `latest`: the version added last, as ingestion answers its latest accepted one.
      const version = match && (wanted === 'latest' ? [...this.versions.values()].filter((candidate) => candidate.source === source).at(-1) : this.versions.get(`${source}/${wanted}`));
      if (!match || !version) return json(404, { error: 'unknown version' });
      if (match[3]) {
        this.dataRequests.push({ method: request.method ?? '', userAgent: String(request.headers['user-agent'] ?? ''), versionId: version.versionId });
        if (this.dataUnavailable) return json(503, { error: 'storage unavailable' });
        response.writeHead(200, { 'content-type': 'application/vnd.apache.parquet', 'x-loopline-sha256': version.sha256 });
        createReadStream(version.path).pipe(response);
        return;
      }
      return json(200, this.describe(version));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  private describe(version: DatasetVersion & { readonly createdAt: string; readonly eventTimeRange: { start: string; end: string } | null }) {
    return {
      source: version.source,
      versionId: version.versionId,
      status: 'CREATED',
      sha256: version.sha256,
      rowCount: 0,
      columns: [],
      eventTimeColumn: version.eventTimeColumn,
      entityColumns: [],
      createdAt: version.createdAt,
      eventTimeRange: version.eventTimeRange,
      artifact: {},
    };
  }

  /**
   * Registers a Parquet file as a version of `source`; its id is its SHA-256, as ingestion's is.
   * The version added last is the source's `latest`.
   */
  async add(source: string, path: string, eventTimeColumn = 'date', options: { sha256?: string; eventTimeRange?: { start: string; end: string } } = {}): Promise<DatasetVersion> {
    const sha256 = options.sha256 ?? createHash('sha256').update(await readFile(path)).digest('hex');
    const version = { source, versionId: createHash('sha256').update(await readFile(path)).digest('hex'), sha256, path, eventTimeColumn };
    const key = `${source}/${version.versionId}`;
    this.versions.delete(key);
    this.lastCreatedMs = Math.max(Date.now(), this.lastCreatedMs + 1);
    this.versions.set(key, { ...version, createdAt: new Date(this.lastCreatedMs).toISOString(), eventTimeRange: options.eventTimeRange ?? null });
    return version;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

export interface FeatureStoreUnderTest {
  readonly service: RunningService<FeatureStoreConfig>;
  readonly baseUrl: string;
  readonly grpcAddress: string;
  readonly ingestion: FakeIngestion;
  /** Where the online server (a worker thread) listens; undefined when disabled. */
  readonly online: OnlineServerAddresses | undefined;
  readonly clickhouse: ClickHouseClient;
  readonly postgresUrl: string;
  readonly dataDir: string;
  /** Writes rows (JSON objects) to a Parquet file with the given ClickHouse structure. */
  writeParquet(name: string, structure: string, rows: readonly Record<string, unknown>[]): Promise<string>;
  stop(): Promise<void>;
}

export interface StartFeatureStoreOptions {
  /** A fresh database of this test (`createTestDatabase`). */
  readonly postgresUrl: string;
  readonly kafkaBrokers: readonly string[];
  /** A folder of this test (chDB data, artifacts, input files). */
  readonly dataDir: string;
  readonly grpcPort: number;
  /** How the offline store reaches dataset versions (default: the service's, `local-files` on chDB). */
  readonly datasetAccess?: DatasetAccess;
  readonly env?: Readonly<Record<string, string>>;
}

export async function startFeatureStore(options: StartFeatureStoreOptions): Promise<FeatureStoreUnderTest> {
  const { postgresUrl, dataDir } = options;
  const ingestion = new FakeIngestion();
  await ingestion.start();
  const config: Record<string, string> = {
    LOOPLINE_HOST: '127.0.0.1',
    LOOPLINE_FEATURE_STORE_HTTP_PORT: '0',
    LOOPLINE_FEATURE_STORE_GRPC_PORT: String(options.grpcPort),
    LOOPLINE_FEATURE_STORE_ONLINE_HTTP_PORT: '0',
    LOOPLINE_FEATURE_STORE_ONLINE_GRPC_PORT: '0',
    LOOPLINE_POSTGRES_URL: postgresUrl,
    LOOPLINE_KAFKA_BROKERS: options.kafkaBrokers.join(','),
    LOOPLINE_DATA_DIR: dataDir,
    LOOPLINE_LOG_LEVEL: 'warn',
    LOOPLINE_INGESTION_URL: ingestion.url,
    LOOPLINE_FEATURE_STORE_CONSUME_DATASET_EVENTS: 'false',
    // Pipeline tasks only where a spec asks for them (with its own group and pipeline names).
    LOOPLINE_FEATURE_STORE_TASKS: 'false',
    ...(options.datasetAccess ? { LOOPLINE_FEATURE_STORE_DATASET_ACCESS: options.datasetAccess } : {}),
    ...options.env,
  };
  const service = await startService(featureStoreService(() => loadConfig(config)));
  // Ready means Postgres (schema migrated), Kafka and ClickHouse answer: on a loaded machine the
  // first connections can take seconds, and a spec's first request must not race them.
  await eventually(async () => (await fetch(`${service.httpUrl}/health/ready`).catch(() => undefined))?.status === 200, { timeoutMs: 90_000, intervalMs: 250, what: 'the feature store ready' });
  const clickhouse = service.app.get<Infrastructure>(INFRASTRUCTURE).clickhouse!;
  return {
    service,
    baseUrl: service.httpUrl,
    grpcAddress: service.grpcAddress,
    ingestion,
    online: service.app.get<OnlineServer | null>(ONLINE_SERVER)?.addresses,
    clickhouse,
    postgresUrl,
    dataDir,
    async writeParquet(name, structure, rows) {
      const path = join(dataDir, 'inputs', `${name}.parquet`);
      await import('node:fs/promises').then((fs) => fs.mkdir(join(dataDir, 'inputs'), { recursive: true }));
      const data = rows.map((row) => JSON.stringify(row)).join('\n');
      await clickhouse.command({
        query: `INSERT INTO FUNCTION file('${path}', 'Parquet') SELECT * FROM format(JSONEachRow, '${structure.replace(/'/g, "\\'")}', $$${data}$$)`,
        clickhouse_settings: { engine_file_truncate_on_insert: 1 },
      });
      await stat(path);
      return path;
    },
    async stop() {
      await service.stop();
      await ingestion.stop();
    },
  };
}

/** The rows of a training set, downloaded through the REST API and read back with ClickHouse. */
export async function trainingSetRows(store: FeatureStoreUnderTest, id: string): Promise<Record<string, unknown>[]> {
  const response = await fetch(`${store.baseUrl}/v1/training-sets/${id}/data`);
  assert.equal(response.status, 200);
  const path = join(store.dataDir, `${id}.parquet`);
  await writeFile(path, Buffer.from(await response.arrayBuffer()));
  const result = await store.clickhouse.query({ query: `SELECT * FROM file('${path}', 'Parquet')`, format: 'JSONEachRow', clickhouse_settings: { output_format_json_quote_64bit_integers: 0 } });
  return result.json<Record<string, unknown>>();
}

export interface JsonResponse<T = Record<string, unknown>> {
  readonly status: number;
  readonly body: T;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function rest<T = any>(baseUrl: string, method: string, path: string, body?: unknown): Promise<JsonResponse<T>> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json', 'x-loopline-actor': 'user:test' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text === '' ? {} : JSON.parse(text)) as T };
}

export interface ServingClient {
  GetOnlineFeatures(request: unknown, callback: (error: ServiceError | null, response: GrpcOnlineResponse) => void): void;
  close(): void;
}

export interface GrpcOnlineResponse {
  featureNames: string[];
  results: { valueType: string; doubleValues: number[]; int64Values: string[]; stringValues: string[]; boolValues: boolean[]; statuses: string[]; eventTimestampsMs: string[] }[];
}

export function servingClient(address: string): ServingClient {
  const v1 = featureServingPackage().v1 as unknown as { FeatureServingService: new (address: string, creds: unknown) => ServingClient };
  return new v1.FeatureServingService(address, credentials.createInsecure());
}

export function getOnline(client: ServingClient, request: unknown): Promise<GrpcOnlineResponse> {
  return new Promise((resolve, reject) => client.GetOnlineFeatures(request, (error, response) => (error ? reject(error) : resolve(response))));
}

/** The rows of one statement on a feature store's database, over a connection of its own. */
export async function queryRows<T>(postgresUrl: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}
