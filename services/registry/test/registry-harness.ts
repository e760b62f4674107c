// Starts the registry in-process on the test run's real PostgreSQL and Kafka, and talks to it
// like a client would: REST with fetch and FormData, gRPC with a client generated at run time
// from registry_service.proto. Which parts are real: all of them (service, Postgres, Kafka,
// ONNX Runtime in its worker processes); nothing is mocked.
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { startService, type RunningService } from '@loopline/service-host';
import { grpcTestClient, unary, type GrpcCallback, type GrpcTestClient } from '@loopline/testing';
import { loadConfig, type RegistryConfig } from '../src/config';
import { registryService } from '../src/registry-service';

export interface RegistryUnderTest {
  readonly service: RunningService<RegistryConfig>;
  readonly baseUrl: string;
  readonly grpcAddress: string;
  readonly artifactRoot: string;
  stop(): Promise<void>;
}

export interface StartRegistryOptions {
  readonly postgresUrl: string;
  readonly kafkaBrokers: readonly string[];
  readonly dataDir: string;
  readonly grpcPort: number;
  readonly env?: Readonly<Record<string, string>>;
}

export async function startRegistry(options: StartRegistryOptions): Promise<RegistryUnderTest> {
  const env: Record<string, string> = {
    LOOPLINE_HOST: '127.0.0.1',
    LOOPLINE_REGISTRY_HTTP_PORT: '0',
    LOOPLINE_REGISTRY_GRPC_PORT: String(options.grpcPort),
    LOOPLINE_POSTGRES_URL: options.postgresUrl,
    LOOPLINE_KAFKA_BROKERS: options.kafkaBrokers.join(','),
    LOOPLINE_DATA_DIR: options.dataDir,
    LOOPLINE_LOG_LEVEL: 'warn',
    ...options.env,
  };
  const service = await startService(registryService(() => loadConfig(env)));
  return {
    service,
    baseUrl: service.httpUrl,
    grpcAddress: service.grpcAddress,
    artifactRoot: service.config.registry.artifactRoot,
    stop: async () => {
      const outcome = await service.stop();
      if (outcome.failed.length > 0) throw new Error(`registry stopped with failed steps: ${outcome.failed.map((failure) => failure.step).join(', ')}`);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// REST

export interface JsonResponse<T = Record<string, unknown>> {
  readonly status: number;
  readonly body: T;
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
  return { status: response.status, body: (text === '' ? {} : JSON.parse(text)) as T };
}

export async function uploadVersion(
  baseUrl: string,
  name: string,
  artifact: Buffer | undefined,
  metadata: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse> {
  const form = new FormData();
  if (metadata !== undefined) form.append('metadata', typeof metadata === 'string' ? metadata : JSON.stringify(metadata));
  if (artifact !== undefined) form.append('artifact', new Blob([artifact], { type: 'application/octet-stream' }), 'model.onnx');
  const response = await fetch(`${baseUrl}/v1/models/${encodeURIComponent(name)}/versions`, { method: 'POST', body: form, headers });
  const text = await response.text();
  return { status: response.status, body: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown> };
}

// ---------------------------------------------------------------------------------------------
// gRPC

/** The generated client, loosely typed: each test states the fields it reads. */
export type ModelRegistryClient = GrpcTestClient;

export function grpcClient(address: string): ModelRegistryClient {
  return grpcTestClient('loopline/registry/v1/registry_service.proto', 'loopline.registry.v1.ModelRegistry', address);
}

export function actorMetadata(actor: string): Metadata {
  const metadata = new Metadata();
  metadata.set('x-loopline-actor', actor);
  return metadata;
}

export { unary };

/** Uploads a model through the client-streaming RegisterModelVersion RPC, in chunks of `chunkBytes`. */
export function uploadOverGrpc<T = Record<string, unknown>>(
  client: ModelRegistryClient,
  metadataMessage: Record<string, unknown>,
  artifact: Buffer,
  options: { readonly chunkBytes?: number; readonly metadata?: Metadata } = {},
): Promise<T> {
  const method = client.RegisterModelVersion as (metadata: Metadata, callback: GrpcCallback<T>) => { write(message: unknown): boolean; end(): void };
  return new Promise<T>((resolve, reject) => {
    const call = method.call(client, options.metadata ?? new Metadata(), (error, response) => (error ? reject(error) : resolve(response)));
    call.write({ metadata: metadataMessage });
    const chunkBytes = options.chunkBytes ?? 64 * 1024;
    for (let offset = 0; offset < artifact.length; offset += chunkBytes) call.write({ chunk: artifact.subarray(offset, offset + chunkBytes) });
    call.end();
  });
}

/** Downloads through the server-streaming RPC: the artifact description, the bytes, and how the stream ended. */
export function downloadOverGrpc(
  client: ModelRegistryClient,
  request: { modelName: string; modelVersion: number },
): Promise<{ artifact: Record<string, unknown> | undefined; bytes: Buffer; error: ServiceError | undefined }> {
  const method = client.DownloadModelVersionArtifact as (request: unknown) => NodeJS.EventEmitter;
  return new Promise((resolve) => {
    const stream = method.call(client, request);
    let artifact: Record<string, unknown> | undefined;
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (error: ServiceError | undefined) => {
      if (settled) return;
      settled = true;
      resolve({ artifact, bytes: Buffer.concat(chunks), error });
    };
    stream.on('data', (message: { artifact?: Record<string, unknown> | null; chunk?: Buffer | null }) => {
      if (message.artifact) artifact = message.artifact;
      if (message.chunk) chunks.push(message.chunk);
    });
    stream.on('error', (error: ServiceError) => finish(error));
    stream.on('end', () => finish(undefined));
  });
}
