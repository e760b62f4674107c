// The main thread's handle on the online server (online-server.worker.ts): starts the worker,
// forwards cache invalidations to it, restarts it if it dies, and stops it with the service.
// A port that cannot be bound is logged naming the port and its setting; the service itself keeps
// running (its own API serves the same lookups).
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from '@loopline/telemetry';
import type { OnlineServerOptions, ToMainThread, ToWorker } from './online-server-messages';

const restartDelayMs = 1_000;
const stopTimeoutMs = 5_000;

export interface OnlineServerAddresses {
  readonly httpUrl: string;
  readonly grpcAddress: string;
}

export class OnlineServer {
  private worker: Worker | undefined;
  private stopping = false;
  private bound: OnlineServerAddresses | undefined;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: OnlineServerOptions,
    private readonly logger: Logger,
  ) {}

  /** Where the online server listens, once it does. */
  get addresses(): OnlineServerAddresses | undefined {
    return this.bound;
  }

  /** Starts the worker; resolves once it listens or has reported why it cannot. Never throws. */
  start(): Promise<void> {
    if (this.worker || this.stopping) return Promise.resolve();
    return new Promise((settled) => {
      const worker = new Worker(join(__dirname, 'online-server.worker.ts'), {
        workerData: this.options,
        // The worker compiles TypeScript like the main thread; the main thread's other flags
        // (a test runner's, an inspector's) are not meant for it.
        execArgv: ['--require', require.resolve('@swc-node/register')],
      });
      this.worker = worker;
      worker.on('message', (message: ToMainThread) => {
        switch (message.type) {
          case 'listening': {
            const host = this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host;
            this.bound = { httpUrl: `http://${host}:${message.httpPort}`, grpcAddress: `${host}:${message.grpcPort}` };
            this.logger.info(this.bound, `online server listening on ${this.bound.httpUrl} (REST) and ${this.bound.grpcAddress} (gRPC)`);
            settled();
            return;
          }
          case 'failed':
            this.logger.error(
              { port: message.port, setting: message.setting, reason: message.reason },
              `the online server cannot listen on port ${message.port} (${message.reason}); change it with ${message.setting}. Lookups stay available on the service's own ports.`,
            );
            this.stopping = true;
            void worker.terminate();
            settled();
            return;
          case 'log':
            this.logger[message.level]({ err: message.error, component: 'online-server' }, message.msg);
            return;
          default: {
            const unknown: never = message;
            this.logger.warn({ message: unknown }, 'unknown message from the online server');
          }
        }
      });
      worker.on('error', (error) => this.logger.error({ err: error, component: 'online-server' }, 'the online server failed'));
      worker.on('exit', (code) => {
        this.worker = undefined;
        this.bound = undefined;
        settled();
        if (this.stopping) return;
        this.logger.error({ code, component: 'online-server' }, `the online server stopped (exit code ${code}); restarting it in ${restartDelayMs} ms`);
        this.restartTimer = setTimeout(() => void this.start(), restartDelayMs);
      });
    });
  }

  /** The worker's cache drops the view version too (a materialization or push wrote it). */
  invalidate(view: string, version: number): void {
    this.worker?.postMessage({ type: 'invalidate', view, version } satisfies ToWorker);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'stop' } satisfies ToWorker);
    const timer = setTimeout(() => void worker.terminate(), stopTimeoutMs);
    await exited;
    clearTimeout(timer);
  }
}
