// A service's gRPC client as tests use it: loaded from the contracts' .proto files by
// @grpc/proto-loader with the options the services load them with (camelCase fields, 64-bit
// integers and enums as strings, defaults set, the name of each set oneof), loosely typed so each
// test states the fields it reads.
import { join } from 'node:path';
import { credentials, loadPackageDefinition, Metadata, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoRoot } from '@loopline/contracts';

export interface GrpcTestClient {
  [method: string]: unknown;
  close(): void;
}

export type GrpcCallback<T> = (error: ServiceError | null, response: T) => void;

type ClientConstructor = new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => GrpcTestClient;

const loaded = new Map<string, Record<string, unknown>>();

/**
 * A client of `service`, its full name (`loopline.registry.v1.ModelRegistry`), declared in
 * `protoFile` (a path under `proto/`), connected to `address` without TLS.
 */
export function grpcTestClient(protoFile: string, service: string, address: string): GrpcTestClient {
  let root = loaded.get(protoFile);
  if (!root) {
    const definition = loadSync(join(protoRoot, protoFile), { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: [protoRoot] });
    root = loadPackageDefinition(definition) as Record<string, unknown>;
    loaded.set(protoFile, root);
  }
  const Client = service.split('.').reduce<unknown>((scope, name) => (scope as Record<string, unknown> | undefined)?.[name], root) as ClientConstructor | undefined;
  if (typeof Client !== 'function') throw new Error(`${protoFile} declares no service ${service}`);
  return new Client(address, credentials.createInsecure());
}

/** Calls a unary RPC of `client` by name, with `metadata` (none by default). */
export function unary<T = Record<string, unknown>>(client: GrpcTestClient, method: string, request: unknown, metadata = new Metadata()): Promise<T> {
  const call = client[method] as (request: unknown, metadata: Metadata, callback: GrpcCallback<T>) => void;
  return new Promise<T>((resolve, reject) => call.call(client, request, metadata, (error, response) => (error ? reject(error) : resolve(response))));
}
