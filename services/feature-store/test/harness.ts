// Starts the feature store in-process on the test run's real PostgreSQL and Kafka and on an
// embedded chDB, beside a stand-in for the ingestion service: a small HTTP server that answers
// the two ingestion routes the feature store uses with Parquet files the test wrote (through the
// same chDB). Which parts are real: the service, Postgres, Kafka, ClickHouse, the HTTP client of
// ingestion; only ingestion itself is stood in for.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { credentials, loadPackageDefinition, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import type { ClickHouseClient } from '@clickhouse/client';
import { protoRoot } from '@loopline/contracts';
import { INFRASTRUCTURE, startService, type Infrastructure, type RunningService } from '@loopline/service-host';
import { loadConfig, type FeatureStoreConfig } from '../src/config';
import { featureStoreService } from '../src/feature-store-service';

export interface DatasetVersion {
  readonly source: string;
  readonly versionId: string;
  readonly sha256: string;
  readonly path: string;
  readonly eventTimeColumn: string;
}

/** The stand-in for ingestion: dataset versions are Parquet files registered by the test. */
export class FakeIngestion {
  private readonly versions = new Map<string, DatasetVersion>();
  private server: Server | undefined;
  url = '';
  requests = 0;

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      this.requests += 1;
      const match = /^\/v1\/sources\/([^/]+)\/versions\/([^/]+)(\/data)?$/.exec(request.url ?? '');
      const version = match && this.versions.get(`${decodeURIComponent(match[1]!)}/${decodeURIComponent(match[2]!)}`);
      if (!version) {
        response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'unknown version' }));
        return;
      }
      if (match[3]) {
        response.writeHead(200, { 'content-type': 'application/vnd.apache.parquet', 'x-loopline-sha256': version.sha256 });
        createReadStream(version.path).pipe(response);
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          source: version.source,
          versionId: version.versionId,
          sha256: version.sha256,
          rowCount: 0,
          columns: [],
          eventTimeColumn: version.eventTimeColumn,
          entityColumns: [],
          createdAt: new Date().toISOString(),
          artifact: {},
        }),
      );
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  /** Registers a Parquet file as a version of `source`; its id is its SHA-256, as ingestion's is. */
  async add(source: string, path: string, eventTimeColumn = 'date', options: { sha256?: string } = {}): Promise<DatasetVersion> {
    const sha256 = options.sha256 ?? createHash('sha256').update(await readFile(path)).digest('hex');
    const version = { source, versionId: createHash('sha256').update(await readFile(path)).digest('hex'), sha256, path, eventTimeColumn };
    this.versions.set(`${source}/${version.versionId}`, version);
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
    LOOPLINE_POSTGRES_URL: postgresUrl,
    LOOPLINE_KAFKA_BROKERS: options.kafkaBrokers.join(','),
    LOOPLINE_DATA_DIR: dataDir,
    LOOPLINE_LOG_LEVEL: 'warn',
    LOOPLINE_INGESTION_URL: ingestion.url,
    LOOPLINE_FEATURE_STORE_CONSUME_DATASET_EVENTS: 'false',
    ...options.env,
  };
  const service = await startService(featureStoreService(() => loadConfig(config)));
  const clickhouse = service.app.get<Infrastructure>(INFRASTRUCTURE).clickhouse!;
  return {
    service,
    baseUrl: service.httpUrl,
    grpcAddress: service.grpcAddress,
    ingestion,
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
  const definition = loadSync(join(protoRoot, 'loopline/featurestore/v1/feature_serving.proto'), {
    includeDirs: [protoRoot],
    keepCase: false,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const loaded = loadPackageDefinition(definition) as unknown as { loopline: { featurestore: { v1: { FeatureServingService: new (address: string, creds: unknown) => ServingClient } } } };
  return new loaded.loopline.featurestore.v1.FeatureServingService(address, credentials.createInsecure());
}

export function getOnline(client: ServingClient, request: unknown): Promise<GrpcOnlineResponse> {
  return new Promise((resolve, reject) => client.GetOnlineFeatures(request, (error, response) => (error ? reject(error) : resolve(response))));
}
