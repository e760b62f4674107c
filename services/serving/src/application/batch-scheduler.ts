import { batchKey, rowsOf, splitOutputs, stackInputs } from '../domain/tensor/batch';
import type { Tensor } from '../domain/tensor/tensor';
import type { LoadedModel } from './ports';
import { ServingError } from './serving-error';

/** One request waiting to run on a model version. */
export interface InferenceJob {
  /** Validated inputs, in the model's input order. */
  readonly inputs: readonly Tensor[];
  /** Outputs the caller wants, by name. */
  readonly outputNames: readonly string[];
  /** Epoch milliseconds after which the job must not run any more. */
  readonly deadline: number;
  /** True when the caller went away (e.g. a cancelled gRPC call): the job is dropped unrun. */
  readonly isCancelled?: () => boolean;
}

export interface BatchSchedulerOptions {
  /** Most rows in one run. */
  readonly maxBatchRows: number;
  /** Longest a run waits for more jobs once one is queued; 0: run as soon as the model is free. */
  readonly maxDelayMs: number;
  /** Whether jobs may share a run (every input and output has a variable first dimension). */
  readonly batchable: boolean;
  readonly now: () => number;
  /** Told about each job dropped because its deadline passed (or its caller left) while queued. */
  readonly onExpired: () => void;
  /** Told about each run: how many jobs and rows it took. */
  readonly onRun: (jobs: number, rows: number) => void;
}

interface QueuedJob extends InferenceJob {
  readonly key: string;
  readonly rows: number;
  resolve(outputs: Tensor[]): void;
  reject(error: unknown): void;
}

/**
 * The queue of one model version, with dynamic batching. ONNX Runtime's Node binding runs a model
 * synchronously on the event loop, so there is one run at a time per process anyway; while a run
 * is in progress, new jobs queue, and the next run takes every compatible job queued meanwhile (up
 * to `maxBatchRows`). Under load batches form by themselves, with no added delay when idle;
 * `maxDelayMs` > 0 trades latency for larger batches. A job whose deadline passed while queued is
 * dropped and never run.
 */
export class BatchScheduler {
  private readonly queue: QueuedJob[] = [];
  private running = false;
  private scheduled: NodeJS.Immediate | NodeJS.Timeout | undefined;
  private batchable: boolean;

  constructor(
    private readonly model: LoadedModel,
    private readonly options: BatchSchedulerOptions,
  ) {
    this.batchable = options.batchable;
  }

  /** Jobs waiting to run. */
  get depth(): number {
    return this.queue.length;
  }

  submit(job: InferenceJob): Promise<Tensor[]> {
    return new Promise<Tensor[]>((resolve, reject) => {
      this.queue.push({ ...job, key: batchKey(job.inputs), rows: rowsOf(job.inputs), resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running || this.scheduled !== undefined) return;
    const queuedRows = this.queue.reduce((sum, job) => sum + job.rows, 0);
    if (this.options.maxDelayMs > 0 && this.batchable && queuedRows < this.options.maxBatchRows) {
      this.scheduled = setTimeout(() => void this.drain(), this.options.maxDelayMs);
    } else {
      // setImmediate runs after the I/O callbacks of this loop turn: every request parsed in the
      // same turn joins the batch.
      this.scheduled = setImmediate(() => void this.drain());
    }
  }

  private async drain(): Promise<void> {
    this.scheduled = undefined;
    this.running = true;
    try {
      for (;;) {
        const batch = this.takeBatch();
        if (batch.length === 0) break;
        await this.runBatch(batch);
      }
    } finally {
      this.running = false;
      if (this.queue.length > 0) this.schedule();
    }
  }

  /** The oldest live job and every queued job that can share its run, up to the row limit. */
  private takeBatch(): QueuedJob[] {
    const now = this.options.now();
    const batch: QueuedJob[] = [];
    let rows = 0;
    for (let index = 0; index < this.queue.length; ) {
      const job = this.queue[index];
      if (job.deadline <= now || job.isCancelled?.() === true) {
        this.queue.splice(index, 1);
        this.options.onExpired();
        job.reject(new ServingError('DEADLINE_EXCEEDED', 'the request waited in the queue past its deadline and was not run'));
        continue;
      }
      const fits = batch.length === 0 || (this.batchable && job.key === batch[0].key && rows + job.rows <= this.options.maxBatchRows);
      if (fits) {
        this.queue.splice(index, 1);
        batch.push(job);
        rows += job.rows;
        if (!this.batchable || rows >= this.options.maxBatchRows) break;
      } else {
        index++;
      }
    }
    return batch;
  }

  private async runBatch(batch: QueuedJob[]): Promise<void> {
    const outputNames = unionOf(batch.map((job) => job.outputNames), this.model.signature.outputs.map((output) => output.name));
    if (batch.length === 1) {
      const job = batch[0];
      this.options.onRun(1, job.rows);
      try {
        job.resolve(pick(await this.model.run(job.inputs, outputNames), job.outputNames));
      } catch (error) {
        job.reject(inferenceFailed(error));
      }
      return;
    }
    const rows = batch.map((job) => job.rows);
    let split: Tensor[][] | undefined;
    try {
      this.options.onRun(batch.length, rows.reduce((sum, count) => sum + count, 0));
      split = splitOutputs(await this.model.run(stackInputs(batch.map((job) => job.inputs)), outputNames), rows);
      // The outputs did not keep the rows apart: this model must not be batched.
      if (split === undefined) this.batchable = false;
    } catch {
      // One job's values made the run fail: it must not fail the others.
      split = undefined;
    }
    if (split === undefined) {
      for (const job of batch) await this.runBatch([job]);
      return;
    }
    batch.forEach((job, index) => job.resolve(pick(split[index], job.outputNames)));
  }
}

function unionOf(requested: readonly (readonly string[])[], modelOrder: readonly string[]): string[] {
  const wanted = new Set(requested.flat());
  return modelOrder.filter((name) => wanted.has(name));
}

function pick(outputs: readonly Tensor[], names: readonly string[]): Tensor[] {
  if (outputs.length === names.length && outputs.every((output, index) => output.name === names[index])) return [...outputs];
  return names.map((name) => outputs.find((output) => output.name === name)!);
}

function inferenceFailed(error: unknown): ServingError {
  return new ServingError('INFERENCE_FAILED', `the model failed to run: ${error instanceof Error ? error.message : String(error)}`);
}
