// The clients the benchmark drives: JSON over HTTP/1.1 with keep-alive (node:http, lighter than
// fetch so the load generator costs less than the servers it measures) and gRPC (@grpc/grpc-js).
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { credentials, loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoRoot } from '@loopline/contracts';

export function jsonPoster(url: string, maxSockets: number) {
  const target = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets });
  return (body: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const outgoing = request(
        { agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (response.statusCode !== 200) reject(new Error(`HTTP ${response.statusCode}: ${text.slice(0, 300)}`));
            else resolve(text);
          });
          response.on('error', reject);
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });
}

interface ServingClient {
  GetOnlineFeatures(request: unknown, callback: (error: Error | null, response: unknown) => void): void;
  close(): void;
}

export function grpcGetter(address: string) {
  const definition = loadSync(join(protoRoot, 'loopline/featurestore/v1/feature_serving.proto'), { includeDirs: [protoRoot], keepCase: false, longs: String, enums: String, defaults: true, oneofs: true });
  const loaded = loadPackageDefinition(definition) as unknown as { loopline: { featurestore: { v1: { FeatureServingService: new (address: string, creds: unknown) => ServingClient } } } };
  const client = new loaded.loopline.featurestore.v1.FeatureServingService(address, credentials.createInsecure());
  return {
    get: (message: unknown): Promise<unknown> => new Promise((resolve, reject) => client.GetOnlineFeatures(message, (error, response) => (error ? reject(error) : resolve(response)))),
    close: () => client.close(),
  };
}
