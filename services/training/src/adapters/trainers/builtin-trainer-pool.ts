// Built-in trainings run in worker threads, at most `size` at once (the configured worker count),
// so a long training never blocks the service's event loop (HTTP, health checks, Kafka
// heartbeats). One thread per training: its start-up cost is small next to a training. A training
// alone on a machine with spare cores gets a second thread for its histograms (the model does not
// depend on it: see @loopline/ml's histogram-builder).
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { DatasetError, isBuiltinTrainer, ParamsError } from '@loopline/ml';
import { UnavailableError } from '@loopline/errors';
import type { BuiltinTrainerPool, BuiltinTrainingJob, BuiltinTrainingResult } from '../../application/ports';

export class WorkerThreadTrainerPool implements BuiltinTrainerPool {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly workers = new Set<Worker>();
  private closed = false;

  constructor(readonly size: number) {}

  async train(job: BuiltinTrainingJob): Promise<BuiltinTrainingResult> {
    if (!isBuiltinTrainer(job.trainer)) throw new ParamsError(`unknown built-in trainer "${job.trainer}"`);
    await this.acquire();
    try {
      return await this.runWorker(job);
    } finally {
      this.release();
    }
  }

  private runWorker(job: BuiltinTrainingJob): Promise<BuiltinTrainingResult> {
    if (this.closed) return Promise.reject(new UnavailableError('the trainer pool is closed'));
    const entry = workerEntry();
    const worker = new Worker(entry.code, {
      eval: entry.eval,
      workerData: { ...job, dataset: { rowCount: job.dataset.rowCount, columns: [...job.dataset.columns] }, threads: this.running === 1 && availableParallelism() > 1 ? 2 : 1 },
      env: entry.env,
    });
    this.workers.add(worker);
    return new Promise<BuiltinTrainingResult>((resolvePromise, reject) => {
      let settled = false;
      worker.once('message', (message: { ok: true; result: BuiltinTrainingResult } | { ok: false; name: string; message: string }) => {
        settled = true;
        if (message.ok) resolvePromise({ ...message.result, onnx: new Uint8Array(message.result.onnx) });
        else reject(message.name === 'ParamsError' ? new ParamsError(message.message) : message.name === 'DatasetError' ? new DatasetError(message.message) : new Error(message.message));
        void worker.terminate();
      });
      worker.once('error', (error) => {
        if (!settled) reject(error);
        settled = true;
      });
      worker.once('exit', (code) => {
        this.workers.delete(worker);
        if (!settled) reject(new UnavailableError(`the training worker stopped (exit code ${code}) before it answered`));
        settled = true;
      });
    });
  }

  private acquire(): Promise<void> {
    if (this.running < this.size) {
      this.running += 1;
      return Promise.resolve();
    }
    return new Promise((resolvePromise) => this.waiting.push(resolvePromise));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running -= 1;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.workers].map((worker) => worker.terminate()));
  }
}

/**
 * How to start the worker: the compiled .js next to this file, or the .ts source through the same
 * TypeScript loader the service runs under (tests, `node -r @swc-node/register main.ts`).
 */
function workerEntry(): { code: string; eval: boolean; env: NodeJS.ProcessEnv } {
  const extension = extname(__filename);
  const file = join(__dirname, `builtin-training.worker${extension}`);
  if (extension !== '.ts') return { code: file, eval: false, env: process.env };
  const project = process.env.SWC_NODE_PROJECT ?? process.env.TS_NODE_PROJECT ?? findUp('tsconfig.json', __dirname);
  const register = require.resolve('@swc-node/register');
  return {
    code: `require(${JSON.stringify(register)}); require(${JSON.stringify(file)});`,
    eval: true,
    env: project ? { ...process.env, SWC_NODE_PROJECT: project } : process.env,
  };
}

function findUp(name: string, from: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = join(dir, name);
    if (existsSync(candidate) && existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'node_modules'))) return candidate;
    const parent = resolve(dir, '..');
    if (parent === dir) return undefined;
    dir = parent;
  }
}
