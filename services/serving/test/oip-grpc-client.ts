import { resolve } from 'node:path';
import { credentials, loadPackageDefinition, Metadata, type ServiceError, type CallOptions } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

/**
 * A client of `inference.GRPCInferenceService` loaded from the published proto the way a user
 * would load it: field names as written in the .proto (`raw_input_contents`, `fp32_contents`, …),
 * not the service host's camelCase, so the test sees what the wire carries.
 */
export type Unary = (request: object, metadata?: Metadata, options?: CallOptions) => Promise<Record<string, unknown>>;

export interface OipGrpcClient {
  readonly ServerLive: Unary;
  readonly ServerReady: Unary;
  readonly ModelReady: Unary;
  readonly ServerMetadata: Unary;
  readonly ModelMetadata: Unary;
  readonly ModelInfer: Unary;
  close(): void;
}

const protoFile = resolve(__dirname, '..', '..', '..', 'proto', 'inference', 'grpc_predict_v2.proto');

export function oipGrpcClient(address: string): OipGrpcClient {
  const definition = loadSync(protoFile, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const inference = loadPackageDefinition(definition).inference as unknown as { GRPCInferenceService: new (address: string, creds: unknown) => Record<string, (...args: unknown[]) => unknown> & { close(): void } };
  const client = new inference.GRPCInferenceService(address, credentials.createInsecure());
  const unary = (method: string): Unary => (request, metadata = new Metadata(), options = {}) =>
    new Promise((resolvePromise, reject) => {
      (client[method] as (...args: unknown[]) => void).call(client, request, metadata, options, (error: ServiceError | null, response: Record<string, unknown>) => (error ? reject(error) : resolvePromise(response)));
    });
  return {
    ServerLive: unary('ServerLive'),
    ServerReady: unary('ServerReady'),
    ModelReady: unary('ModelReady'),
    ServerMetadata: unary('ServerMetadata'),
    ModelMetadata: unary('ModelMetadata'),
    ModelInfer: unary('ModelInfer'),
    close: () => client.close(),
  };
}
