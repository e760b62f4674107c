// The one client every server is measured with: JSON over HTTP/1.1 with keep-alive (node:http with
// a keep-alive Agent, lighter than fetch, so the load generator costs less of the shared cores),
// and OIP gRPC with @grpc/grpc-js on the published proto (one HTTP/2 channel, requests multiplexed).
// Request bodies are built once, before any timing; each call sends the next one in turn.
import { Agent, request } from 'node:http';
import { resolve } from 'node:path';
import { credentials, loadPackageDefinition, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

export type System = 'loopline' | 'mlserver' | 'mlflow';
export type Api = 'rest' | 'grpc';

export interface Target {
  readonly system: System;
  readonly api: Api;
  /** `http://127.0.0.1:port` for REST, `127.0.0.1:port` for gRPC. */
  readonly endpoint: string;
  readonly model: string;
  /** The OIP input tensor name (Loopline checks it; MLServer takes any). */
  readonly inputName: string;
  readonly rowsPerRequest: number;
}

export interface Caller {
  /** Sends the next prepared request; resolves when a successful answer has been read whole. */
  call(): Promise<void>;
  /** The labels the server predicts for `rows` (one request), to check agreement before timing. */
  labels(rows: readonly (readonly number[])[]): Promise<number[]>;
  close(): void;
}

const protoFile = resolve(__dirname, '..', '..', 'proto', 'inference', 'grpc_predict_v2.proto');

/** Groups of `size` rows, in turn through `rows` (wrapping), `count` of them. */
function batches(rows: readonly (readonly number[])[], size: number, count: number): (readonly number[])[][] {
  return Array.from({ length: count }, (_, index) => Array.from({ length: size }, (_, row) => rows[(index * size + row) % rows.length]!));
}

function restBody(target: Target, rows: readonly (readonly number[])[]): string {
  if (target.system === 'mlflow') return JSON.stringify({ inputs: rows });
  return JSON.stringify({ inputs: [{ name: target.inputName, shape: [rows.length, rows[0]!.length], datatype: 'FP32', data: rows.flat() }] });
}

function restPath(target: Target): string {
  return target.system === 'mlflow' ? '/invocations' : `/v2/models/${target.model}/infer`;
}

function restLabels(target: Target, text: string): number[] {
  const parsed = JSON.parse(text) as { predictions?: number[]; outputs?: { name: string; data: number[] }[] };
  if (target.system === 'mlflow') return parsed.predictions!.map(Number);
  const output = parsed.outputs!.find((candidate) => candidate.name === (target.system === 'loopline' ? 'label' : 'predict'));
  return output!.data.map(Number);
}

function restCaller(target: Target, rows: readonly (readonly number[])[], connections: number): Caller {
  const url = new URL(target.endpoint);
  const agent = new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  const path = restPath(target);
  const send = (body: Buffer): Promise<string> =>
    new Promise((resolvePromise, reject) => {
      const outgoing = request(
        { agent, host: url.hostname, port: url.port, path, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': body.length } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (response.statusCode !== 200) reject(new Error(`HTTP ${response.statusCode}: ${text.slice(0, 300)}`));
            else resolvePromise(text);
          });
          response.on('error', reject);
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  const bodies = batches(rows, target.rowsPerRequest, target.rowsPerRequest === 1 ? rows.length : 16).map((group) => Buffer.from(restBody(target, group)));
  let next = 0;
  return {
    call: async () => void (await send(bodies[next++ % bodies.length]!)),
    labels: async (group) => restLabels(target, await send(Buffer.from(restBody(target, group)))),
    close: () => agent.destroy(),
  };
}

interface InferenceClient {
  ModelInfer(request: object, callback: (error: ServiceError | null, response: GrpcInferResponse) => void): void;
  close(): void;
}

interface GrpcInferResponse {
  readonly outputs: { name: string; contents?: { int64_contents?: string[] } }[];
  readonly raw_output_contents: Buffer[];
}

function grpcRequest(target: Target, rows: readonly (readonly number[])[]): object {
  return {
    model_name: target.model,
    inputs: [{ name: target.inputName, datatype: 'FP32', shape: [rows.length, rows[0]!.length], contents: { fp32_contents: rows.flat() } }],
  };
}

function grpcCaller(target: Target, rows: readonly (readonly number[])[]): Caller {
  // Field names as the .proto writes them (keepCase), as a user's generated client would send them.
  const definition = loadSync(protoFile, { keepCase: true, longs: String, enums: String, defaults: false, oneofs: true });
  const inference = loadPackageDefinition(definition).inference as unknown as { GRPCInferenceService: new (address: string, creds: unknown, options: object) => InferenceClient };
  const client = new inference.GRPCInferenceService(target.endpoint, credentials.createInsecure(), { 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
  const send = (message: object): Promise<GrpcInferResponse> =>
    new Promise((resolvePromise, reject) => client.ModelInfer(message, (error, response) => (error ? reject(error) : resolvePromise(response))));
  const messages = batches(rows, target.rowsPerRequest, target.rowsPerRequest === 1 ? rows.length : 16).map((group) => grpcRequest(target, group));
  let next = 0;
  return {
    call: async () => void (await send(messages[next++ % messages.length]!)),
    labels: async (group) => {
      const response = await send(grpcRequest(target, group));
      const output = response.outputs.find((candidate) => candidate.name === (target.system === 'loopline' ? 'label' : 'predict'));
      return (output?.contents?.int64_contents ?? []).map(Number);
    },
    close: () => client.close(),
  };
}

export function makeCaller(target: Target, rows: readonly (readonly number[])[], connections: number): Caller {
  return target.api === 'rest' ? restCaller(target, rows, connections) : grpcCaller(target, rows);
}
