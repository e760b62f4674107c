// The online server's worker thread: GetOnlineFeatures over REST (`POST /v1/online-features`) and
// gRPC (`FeatureServingService/GetOnlineFeatures`) on ports of its own, answered by its own
// `OnlineReader` (catalog and online rows from Postgres, read-through cache). It runs apart from
// the service's main thread so a lookup never waits behind materializations, Kafka consumers,
// the outbox relay or the collections of the main thread's large heap (4–7 ms each at 1,000
// lookups/s; this thread's own mostly take 0.4–0.9 ms). No tracing here on purpose (see README,
// "Online server").
//
// Messages from the main thread: `invalidate` (a materialization or push wrote a view version)
// and `stop`. To it: `listening` with the bound ports, `failed` when a port cannot be bound, and
// `log` records for the service's logger.
import { readlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { Server as GrpcServer, ServerCredentials, type sendUnaryData, type ServerUnaryCall, type ServiceDefinition } from '@grpc/grpc-js';
import { Pool } from 'pg';
import { PostgresEventStore } from '@loopline/eventsourcing';
import { httpStatusOf, isLooplineError, ValidationError } from '@loopline/errors';
import { grpcErrorOf } from '@loopline/service-host/grpc-errors';
import { DefinitionsApplication } from '../../application/definitions';
import { OnlineReader } from '../../application/online-features';
import { featureServingPackage } from '../grpc/feature-serving-package';
import { parseOnlineFeaturesBody } from '../http/request-schemas';
import { onlineFeaturesJson, onlineFeaturesMessage, onlineRequestOf, type OnlineFeaturesMessage } from '../online-wire';
import { PostgresDefinitionStore } from '../postgres/definition-store';
import { OnlineInvalidations } from '../postgres/online-invalidations';
import { PostgresOnlineStore } from '../postgres/online-store';
import { featureStoreSchema } from '../postgres/schema';
import type { OnlineServerOptions, ToMainThread, ToWorker } from './online-server-messages';

const onlinePath = '/v1/online-features';
const maxBodyBytes = 1024 * 1024;
const dropBodyBytes = 16 * maxBodyBytes;

const options = workerData as OnlineServerOptions;
const port = parentPort!;
const post = (message: ToMainThread) => port.postMessage(message);
const log = (level: 'info' | 'warn' | 'error', msg: string, error?: unknown) =>
  post({ type: 'log', level, msg, error: error === undefined ? undefined : error instanceof Error ? (error.stack ?? error.message) : String(error) });

const pool = new Pool({ connectionString: options.postgresUrl, application_name: 'loopline-feature-store-online', max: 4, connectionTimeoutMillis: 2_000, idleTimeoutMillis: 30_000 });
pool.on('error', (error) => log('warn', 'idle Postgres connection of the online server failed', error));
const clock = { now: () => new Date() };
const definitions = new DefinitionsApplication(new PostgresDefinitionStore(pool, new PostgresEventStore({ pool, schema: featureStoreSchema })), clock);
const reader = new OnlineReader(definitions, new PostgresOnlineStore(pool), clock, options.cacheRowsPerView);
// Writes of every replica, this one's main thread included, invalidate this cache too.
const invalidations = new OnlineInvalidations(reader, { connectionString: options.postgresUrl, applicationName: 'loopline-feature-store-online-server-invalidations', log });

function errorBody(error: unknown): { status: number; body: object } {
  if (isLooplineError(error)) return { status: httpStatusOf(error.code), body: { error: error.message, code: error.code, details: error.details } };
  log('error', 'online lookup failed', error);
  return { status: 500, body: { error: 'internal error', code: 'INTERNAL' } };
}

function send(response: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

/**
 * The body as JSON, at most `maxBodyBytes`: a 413 or 400 names what was wrong. A larger body is
 * read to its end (and dropped) so the client receives the 413, up to `dropBodyBytes`, past which
 * the connection is cut.
 */
function readJson(request: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > dropBodyBytes) request.destroy();
      else if (size <= maxBodyBytes) chunks.push(chunk);
    });
    request.on('end', () => {
      if (size > maxBodyBytes) {
        reject(Object.assign(new ValidationError(`the request body is larger than ${maxBodyBytes} bytes`, { limit: maxBodyBytes }), { status: 413 }));
        return;
      }
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown);
      } catch (error) {
        reject(new ValidationError(`the request body is not JSON: ${error instanceof Error ? error.message : String(error)}`, { field: '(body)' }));
      }
    });
    request.on('error', reject);
  });
}

async function handleHttp(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = request.url ?? '/';
  const path = url.includes('?') ? url.slice(0, url.indexOf('?')) : url;
  if (path === onlinePath) {
    if (request.method !== 'POST') return send(response, 405, { error: `${request.method} ${onlinePath} is not served: use POST`, code: 'HTTP' });
    try {
      const body = parseOnlineFeaturesBody(await readJson(request));
      send(response, 200, onlineFeaturesJson(await reader.get(body)));
    } catch (error) {
      const status = (error as { status?: number }).status;
      const mapped = errorBody(error);
      send(response, status ?? mapped.status, mapped.body);
    }
    return;
  }
  if (path === '/health/live' || path === '/health/ready') return send(response, 200, { status: 'ok' });
  send(response, 404, { error: `no route ${request.method} ${path} on the online server (it serves POST ${onlinePath})`, code: 'NOT_FOUND' });
}

function grpcService(): ServiceDefinition {
  const v1 = featureServingPackage().v1 as unknown as { FeatureServingService: { service: ServiceDefinition } };
  return v1.FeatureServingService.service;
}

function startGrpc(): Promise<{ server: GrpcServer; port: number }> {
  const server = new GrpcServer();
  server.addService(grpcService(), {
    GetOnlineFeatures: (call: ServerUnaryCall<OnlineFeaturesMessage, unknown>, callback: sendUnaryData<unknown>) => {
      reader.get(onlineRequestOf(call.request)).then(
        (response) => callback(null, onlineFeaturesMessage(response)),
        (error: unknown) => {
          if (!isLooplineError(error)) log('error', 'online lookup over gRPC failed', error);
          callback(grpcErrorOf(error));
        },
      );
    },
    PushFeatures: (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) =>
      callback(grpcErrorOf(new ValidationError(`the online server only reads: push to the feature store's own gRPC port (${options.mainGrpcAddress})`, { rpc: 'PushFeatures' }))),
  });
  return new Promise((resolve, reject) => {
    server.bindAsync(hostPort(options.host, options.grpcPort), ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve({ server, port: bound })));
  });
}

function startHttp(): Promise<HttpServer> {
  const server = createServer((request, response) => void handleHttp(request, response));
  server.keepAliveTimeout = 65_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.httpPort, options.host, () => resolve(server));
  });
}

function hostPort(host: string, portNumber: number): string {
  return host.includes(':') ? `[${host}]:${portNumber}` : `${host}:${portNumber}`;
}

/**
 * Lookups go first when they share a core with the rest of the service: this thread (Linux: its
 * own thread id under /proc/thread-self) runs at a lower nice value than the main thread, where
 * the service is allowed to (root or CAP_SYS_NICE); otherwise it says so once and runs as it is.
 */
function raisePriority(nice: number): void {
  if (nice === 0) return;
  try {
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
    setPriority(threadId, nice);
  } catch (error) {
    log('warn', `the online server could not take scheduling priority nice ${nice} (it needs CAP_SYS_NICE on Linux): lookups share the core with the rest of the service on equal terms`, error);
  }
}

async function main(): Promise<void> {
  raisePriority(options.nice);
  invalidations.start();
  let http: HttpServer;
  try {
    http = await startHttp();
  } catch (error) {
    post({ type: 'failed', setting: options.httpPortSetting, port: options.httpPort, reason: error instanceof Error ? error.message : String(error) });
    return;
  }
  let grpc: { server: GrpcServer; port: number };
  try {
    grpc = await startGrpc();
  } catch (error) {
    http.close();
    post({ type: 'failed', setting: options.grpcPortSetting, port: options.grpcPort, reason: error instanceof Error ? error.message : String(error) });
    return;
  }
  port.on('message', (message: ToWorker) => {
    switch (message.type) {
      case 'invalidate':
        reader.invalidate(message.view, message.version);
        return;
      case 'stop':
        http.closeAllConnections();
        http.close();
        grpc.server.forceShutdown();
        void invalidations.stop().then(() => pool.end()).finally(() => port.close());
        return;
      default: {
        const unknown: never = message;
        log('warn', `unknown message ${JSON.stringify(unknown)}`);
      }
    }
  });
  post({ type: 'listening', httpPort: (http.address() as AddressInfo).port, grpcPort: grpc.port });
}

void main();
