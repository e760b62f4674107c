// Starts the ingestion service in-process on the test run's real PostgreSQL and Kafka, with its
// own chDB engine, and talks to it like a client would: REST with fetch, gRPC with a client
// generated at run time from ingestion_service.proto, Kafka with a consumer of the dataset
// versions topic. Which parts are real: all of them; nothing is mocked.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Metadata } from '@grpc/grpc-js';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { decodeEvent, type DecodedEvent } from '@loopline/contracts';
import { startService, type RunningService } from '@loopline/service-host';
import { grpcTestClient, unary, type GrpcCallback, type GrpcTestClient } from '@loopline/testing';
import { loadConfig, type IngestionConfig } from '../src/config';
import { ingestionService } from '../src/ingestion-service';

export const datasetVersionsTopic = 'loopline.ingestion.dataset-versions.v1';

export interface IngestionUnderTest {
  readonly service: RunningService<IngestionConfig>;
  readonly baseUrl: string;
  readonly grpcAddress: string;
  readonly artifactRoot: string;
  readonly dataDir: string;
  stop(): Promise<void>;
}

export interface StartIngestionOptions {
  readonly postgresUrl: string;
  readonly kafkaBrokers: readonly string[];
  readonly dataDir: string;
  readonly grpcPort: number;
  readonly env?: Readonly<Record<string, string>>;
}

export async function startIngestion(options: StartIngestionOptions): Promise<IngestionUnderTest> {
  const { dataDir, env = {} } = options;
  const fullEnv: Record<string, string> = {
    LOOPLINE_HOST: '127.0.0.1',
    LOOPLINE_INGESTION_HTTP_PORT: '0',
    LOOPLINE_INGESTION_GRPC_PORT: String(options.grpcPort),
    LOOPLINE_POSTGRES_URL: options.postgresUrl,
    LOOPLINE_KAFKA_BROKERS: options.kafkaBrokers.join(','),
    LOOPLINE_DATA_DIR: dataDir,
    LOOPLINE_LOG_LEVEL: 'warn',
    // Specs share the run's Kafka: only those about pipeline tasks consume RunTask (with their own group and pipelines).
    LOOPLINE_INGESTION_TASKS: 'false',
    ...env,
  };
  const service = await startService(ingestionService(() => loadConfig(fullEnv)));
  return {
    service,
    baseUrl: service.httpUrl,
    grpcAddress: service.grpcAddress,
    artifactRoot: service.config.ingestion.artifactRoot,
    dataDir,
    stop: async () => {
      const outcome = await service.stop();
      if (outcome.failed.length > 0) throw new Error(`ingestion stopped with failed steps: ${outcome.failed.map((failure) => failure.step).join(', ')}`);
    },
  };
}

/** Blobs in the local artifact store (uploads in progress excluded). */
export function storedBlobs(artifactRoot: string): string[] {
  const root = join(artifactRoot, 'sha256');
  if (!existsSync(root)) return [];
  return readdirSync(root).flatMap((prefix) => readdirSync(join(root, prefix)));
}

/** Files left in the upload area: temporary files that should have been removed. */
export function leftoverUploads(artifactRoot: string): string[] {
  const incoming = join(artifactRoot, '.incoming');
  return existsSync(incoming) ? readdirSync(incoming) : [];
}

// ---------------------------------------------------------------------------------------------
// REST

export interface JsonResponse<T = Record<string, unknown>> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

export async function rest<T = Record<string, unknown>>(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse<T>> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text === '' ? {} : JSON.parse(text)) as T, headers: response.headers };
}

/** Uploads raw bytes (or a file stream) as the body of POST /v1/sources/{source}/uploads. */
export async function upload(
  baseUrl: string,
  source: string,
  body: Buffer | string | ReadableStream<Uint8Array>,
  format: string | undefined,
  headers: Record<string, string> = {},
): Promise<JsonResponse> {
  const query = format === undefined ? '' : `?format=${encodeURIComponent(format)}`;
  const response = await fetch(`${baseUrl}/v1/sources/${source}/uploads${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', ...headers },
    body: body as NonNullable<Parameters<typeof fetch>[1]>['body'],
    ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
  } as Parameters<typeof fetch>[1]);
  const text = await response.text();
  return { status: response.status, body: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>, headers: response.headers };
}

// ---------------------------------------------------------------------------------------------
// Kafka

/** Collects the dataset-version events of the given sources (other specs share the topic). */
export class DatasetVersionEvents {
  readonly seen: DecodedEvent[] = [];
  private consumer: Consumer | undefined;

  /** Subscribes once the service has provisioned the topic (it does at start). */
  async start(options: { readonly kafkaBrokers: readonly string[]; readonly groupId: string; readonly sources: () => readonly string[] }): Promise<void> {
    const sources = options.sources;
    const kafka = new Kafka({ clientId: 'ingestion-e2e', brokers: [...options.kafkaBrokers], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const deadline = Date.now() + 30_000;
      while (!(await admin.listTopics()).includes(datasetVersionsTopic)) {
        if (Date.now() > deadline) throw new Error(`${datasetVersionsTopic} was not provisioned within 30 s`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await admin.disconnect();
    }
    this.consumer = kafka.consumer({ groupId: options.groupId });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: datasetVersionsTopic, fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ message }) => {
        const key = message.key?.toString();
        if (key === undefined || !sources().includes(key)) return;
        this.seen.push(decodeEvent(message, datasetVersionsTopic));
      },
    });
  }

  of(source: string): DecodedEvent[] {
    return this.seen.filter((event) => event.key === source);
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------
// gRPC

export type IngestionClient = GrpcTestClient;

export function grpcClient(address: string): IngestionClient {
  return grpcTestClient('loopline/ingestion/v1/ingestion_service.proto', 'loopline.ingestion.v1.Ingestion', address);
}

export { unary };

export function uploadOverGrpc<T = Record<string, unknown>>(client: IngestionClient, header: Record<string, unknown>, data: Buffer, chunkBytes = 64 * 1024): Promise<T> {
  const method = client.UploadDataset as (metadata: Metadata, callback: GrpcCallback<T>) => { write(message: unknown): boolean; end(): void };
  return new Promise<T>((resolve, reject) => {
    const call = method.call(client, new Metadata(), (error, response) => (error ? reject(error) : resolve(response)));
    call.write({ header });
    for (let offset = 0; offset < data.length; offset += chunkBytes) call.write({ chunk: data.subarray(offset, offset + chunkBytes) });
    call.end();
  });
}

// ---------------------------------------------------------------------------------------------
// Pipeline tasks

/** Collects the task results (TaskCompleted / TaskFailed) of the given pipeline runs. */
export class TaskResults {
  readonly seen: DecodedEvent[] = [];
  private consumer: Consumer | undefined;

  async start(options: { readonly kafkaBrokers: readonly string[]; readonly groupId: string }): Promise<void> {
    const kafka = new Kafka({ clientId: 'ingestion-tasks-e2e', brokers: [...options.kafkaBrokers], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const deadline = Date.now() + 30_000;
      while (!(await admin.listTopics()).includes(taskResultsTopic)) {
        if (Date.now() > deadline) throw new Error(`${taskResultsTopic} was not provisioned within 30 s`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await admin.disconnect();
    }
    this.consumer = kafka.consumer({ groupId: options.groupId, maxWaitTimeInMs: 100 });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: taskResultsTopic, fromBeginning: true });
    await this.consumer.run({ eachMessage: async ({ message }) => void this.seen.push(decodeEvent(message, taskResultsTopic)) });
  }

  of(runId: string): DecodedEvent[] {
    return this.seen.filter((event) => event.key === runId);
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}

export const taskCommandsTopic = 'loopline.orchestration.task-commands.v1';
export const taskResultsTopic = 'loopline.orchestration.task-results.v1';
