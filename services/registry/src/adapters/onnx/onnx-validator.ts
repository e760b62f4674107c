// Validates an uploaded model in a child process per model with a heap limit, a resident-memory
// watchdog and a hard timeout; the child is SIGKILLed when a bound is crossed. A hostile model
// therefore costs one short-lived process, never the registry (REFERENCE §7, SEC-3).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { ValidationError } from '@loopline/errors';
import type { ModelValidator, ReceivedFile } from '../../application/ports';
import type { ModelSignature } from '../../domain/registered-model/registered-model';
import type { WorkerReply } from './onnx-validation.worker';

export interface OnnxValidatorOptions {
  readonly timeoutMs: number;
  /** Resident memory the worker may use, heap and native (ONNX Runtime) together. */
  readonly memoryMb: number;
  /** Workers at once; more registrations wait their turn. */
  readonly concurrency: number;
  /** An empty folder the worker runs in, so no relative path resolves to anything. */
  readonly workDir: string;
}

const pageSize = 4096;
const watchIntervalMs = 20;

export class IsolatedOnnxValidator implements ModelValidator {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  /** A started worker waiting for its one model: process start-up is off the request's path. */
  private spare: ChildProcess | undefined;
  private closed = false;

  constructor(private readonly options: OnnxValidatorOptions) {}

  async validate(file: ReceivedFile): Promise<ModelSignature> {
    await this.acquire();
    try {
      const reply = await this.runWorker(this.takeWorker(), resolve(file.path));
      if (!reply.ok) throw new ValidationError(`the artifact was rejected: ${reply.reason}`, { field: 'artifact', reason: reply.reason });
      return reply.signature;
    } finally {
      this.release();
      if (!this.closed && !this.spare) this.spare = this.startWorker();
    }
  }

  /** Stops the spare worker; validations in flight finish. */
  close(): void {
    this.closed = true;
    this.spare?.kill('SIGKILL');
    this.spare = undefined;
  }

  private startWorker(): ChildProcess {
    const { memoryMb, workDir } = this.options;
    mkdirSync(workDir, { recursive: true, mode: 0o700 });
    const heapMb = Math.max(64, Math.floor(memoryMb / 2));
    const worker = workerEntry();
    const child = spawn(process.execPath, [...worker.execArgv, `--max-old-space-size=${heapMb}`, worker.file], {
      cwd: workDir,
      // Only what node and the TypeScript loader need: no credentials reach the worker.
      env: { PATH: process.env.PATH ?? '', NODE_ENV: process.env.NODE_ENV ?? 'production', ...worker.env },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    child.on('error', () => undefined); // a failed spawn shows as an exit without reply
    // An idle spare must not keep the service's process alive; it exits with its parent.
    setHeld(child, false);
    return child;
  }

  private takeWorker(): ChildProcess {
    const spare = this.spare;
    this.spare = undefined;
    if (spare && spare.exitCode === null && spare.signalCode === null && spare.connected) return spare;
    spare?.kill('SIGKILL');
    return this.startWorker();
  }

  private runWorker(child: ChildProcess, modelPath: string): Promise<WorkerReply> {
    const { timeoutMs, memoryMb } = this.options;
    setHeld(child, true);
    return new Promise<WorkerReply>((resolvePromise) => {
      let reply: WorkerReply | undefined;
      let killedFor: string | undefined;
      const stderr: string[] = [];
      const kill = (reason: string) => {
        if (killedFor !== undefined || child.exitCode !== null) return;
        killedFor = reason;
        child.kill('SIGKILL');
      };
      const timer = setTimeout(() => kill(`loading took longer than ${timeoutMs} ms`), timeoutMs);
      const watchdog = setInterval(() => {
        void residentMb(child.pid).then((mb) => {
          if (mb !== undefined && mb > memoryMb) kill(`loading used more than ${memoryMb} MB of memory`);
        });
      }, watchIntervalMs);
      child.stderr?.on('data', (chunk: Buffer) => {
        if (stderr.join('').length < 4_000) stderr.push(chunk.toString('utf8'));
      });
      child.on('message', (message: WorkerReply) => {
        reply = message;
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        clearInterval(watchdog);
        if (killedFor !== undefined) return resolvePromise({ ok: false, reason: `the model was stopped: ${killedFor}` });
        if (reply) return resolvePromise(reply);
        const detail = /heap out of memory|Allocation failed/i.test(stderr.join('')) ? 'it ran out of memory' : `exit code ${code ?? 'none'}, signal ${signal ?? 'none'}`;
        resolvePromise({ ok: false, reason: `the model could not be loaded: the validation worker died (${detail})` });
      });
      if (child.exitCode !== null || child.signalCode !== null) {
        clearTimeout(timer);
        clearInterval(watchdog);
        return resolvePromise({ ok: false, reason: 'the model could not be loaded: the validation worker ended before it started' });
      }
      if (!child.connected) return; // exiting: 'exit' reports it
      child.send({ path: modelPath }, (error) => {
        if (error) kill(`the validation worker could not be reached (${error.message})`);
      });
    });
  }

  private async acquire(): Promise<void> {
    if (this.running < this.options.concurrency) {
      this.running += 1;
      return;
    }
    await new Promise<void>((resolvePromise) => this.waiting.push(resolvePromise));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running -= 1;
  }
}

/** Whether a worker's process, IPC channel and stderr keep the event loop alive. */
function setHeld(child: ChildProcess, held: boolean): void {
  const handles: ({ ref?(): void; unref?(): void } | null | undefined)[] = [child, child.channel, child.stderr as unknown as { ref?(): void; unref?(): void }];
  for (const handle of handles) (held ? handle?.ref : handle?.unref)?.call(handle);
}

/**
 * How to start the worker: the compiled .js next to this file, or the .ts source through the
 * same TypeScript loader the service runs under (tests, `node -r @swc-node/register main.ts`).
 */
function workerEntry(): { file: string; execArgv: string[]; env: Record<string, string> } {
  const extension = extname(__filename);
  const file = join(__dirname, `onnx-validation.worker${extension}`);
  if (extension !== '.ts') return { file, execArgv: [], env: {} };
  // The loader finds tsconfig.json from the working directory, which is empty: say where it is.
  const project = process.env.SWC_NODE_PROJECT ?? process.env.TS_NODE_PROJECT ?? findUp('tsconfig.json', __dirname);
  // Resolved here: the worker's working directory is empty, so a bare name would not resolve there.
  return { file, execArgv: ['--require', require.resolve('@swc-node/register')], env: project ? { SWC_NODE_PROJECT: project } : {} };
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

/** Resident set of a process in MB (Linux /proc); undefined where unavailable. */
async function residentMb(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined || process.platform !== 'linux') return undefined;
  try {
    const statm = await readFile(`/proc/${pid}/statm`, 'utf8');
    const pages = Number(statm.split(' ')[1]);
    return Number.isFinite(pages) ? (pages * pageSize) / (1024 * 1024) : undefined;
  } catch {
    return undefined;
  }
}
