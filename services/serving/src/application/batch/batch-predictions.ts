import { createWriteStream, type WriteStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { IllegalStateError, NotFoundError, ValidationError } from '@loopline/errors';
import type { Logger } from '@loopline/telemetry';
import { nestedValues } from '../../domain/tensor/encode-outputs';
import type { Tensor, TensorSpec } from '../../domain/tensor/tensor';
import { championAlias } from '../model-manager';
import type { ServedVersion } from '../served-version';
import type { InferenceRuntime, LoadedModel, ModelSource } from '../ports';
import type { BatchInput, BatchInputSource, ColumnInfo, OutputColumn, ParquetEngine, PredictionsStore } from './batch-ports';

export type BatchJobStatus = 'queued' | 'running' | 'succeeded' | 'failed';
export type BatchPhase = 'queued' | 'fetching' | 'scoring' | 'writing' | 'storing' | 'done';

/**
 * Why a job failed, for the client:
 * - `MODEL_NOT_FOUND`: the model, version or alias is not in the registry.
 * - `INPUT_NOT_FOUND`: the training set, dataset version or artifact does not exist.
 * - `SIGNATURE_MISMATCH`: a model input is not a column of the input, or has a type it cannot take.
 * - `INPUT_UNREADABLE`: the input is not a Parquet file this server can read.
 * - `MODEL_FAILED`: the model failed on a chunk.
 * - `INTERNAL`: anything else (the message says what).
 */
export type BatchErrorCode = 'MODEL_NOT_FOUND' | 'INPUT_NOT_FOUND' | 'SIGNATURE_MISMATCH' | 'INPUT_UNREADABLE' | 'MODEL_FAILED' | 'INTERNAL';

export class BatchJobError extends Error {
  constructor(
    readonly code: BatchErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BatchJobError';
  }
}

export interface BatchRequest {
  readonly model: string;
  readonly version?: number;
  readonly alias?: string;
  readonly input: BatchInput;
  readonly chunkRows?: number;
}

export interface BatchJob {
  readonly jobId: string;
  status: BatchJobStatus;
  phase: BatchPhase;
  readonly model: { readonly name: string; version: number; readonly alias: string | null };
  readonly input: BatchInput;
  readonly chunkRows: number;
  inputSha256: string | null;
  rowsDone: number;
  rowsTotal: number | null;
  bytesFetched: number;
  readonly createdAt: number;
  startedAt: number | null;
  scoringStartedAt: number | null;
  finishedAt: number | null;
  keyColumns: string[];
  output: { readonly uri: string; readonly sha256: string; readonly sizeBytes: number; readonly rows: number; readonly columns: string[] } | null;
  error: { readonly code: BatchErrorCode; readonly message: string } | null;
}

export interface BatchPredictionsOptions {
  readonly source: ModelSource;
  /** The version as loaded here for online traffic, if it is (shared rather than loaded twice). */
  readonly servedVersion: (modelName: string, version: number) => ServedVersion | undefined;
  readonly runtime: InferenceRuntime;
  readonly inputs: BatchInputSource;
  readonly engine: ParquetEngine;
  readonly store: PredictionsStore;
  readonly logger: Logger;
  readonly defaultChunkRows: number;
  readonly maxChunkRows: number;
  /** Jobs kept (finished ones are forgotten oldest first beyond it). */
  readonly maxJobs: number;
  readonly now: () => number;
  readonly newId: () => string;
}

const supportedInputTypes = new Set(['FP32', 'FP64', 'INT64', 'BYTES']);

/**
 * Batch inference: a model version over a whole Parquet file, off the request path. Jobs run one
 * at a time (the machine's cores are the online path's too). A job fetches the input to the local
 * disk (checking its SHA-256), streams it through ClickHouse in chunks of `chunkRows` — never the
 * whole file in memory —, runs the model per chunk, appends each chunk's key columns and outputs
 * to a local file, then writes the predictions Parquet (keys with their input types, then one
 * column per output) and stores it in the artifact store under its SHA-256. Jobs live in memory
 * (serving owns nothing durable): a restart forgets them, their stored outputs stay.
 */
export class BatchPredictions {
  private readonly jobs = new Map<string, BatchJob>();
  private queue: Promise<void> = Promise.resolve();
  private stopping = false;

  constructor(private readonly options: BatchPredictionsOptions) {}

  /** Validates the request, checks that model and input exist, queues the job. */
  async submit(request: BatchRequest): Promise<BatchJob> {
    const { options } = this;
    const chunkRows = request.chunkRows ?? options.defaultChunkRows;
    if (!Number.isSafeInteger(chunkRows) || chunkRows < 1 || chunkRows > options.maxChunkRows) {
      throw new ValidationError(`chunkRows must be an integer from 1 to ${options.maxChunkRows}`, { field: 'chunkRows' });
    }
    const resolved = await this.resolveVersion(request);
    await options.inputs.check(request.input);
    const job: BatchJob = {
      jobId: options.newId(),
      status: 'queued',
      phase: 'queued',
      model: { name: request.model, version: resolved.version, alias: resolved.alias },
      input: request.input,
      chunkRows,
      inputSha256: null,
      rowsDone: 0,
      rowsTotal: null,
      bytesFetched: 0,
      createdAt: options.now(),
      startedAt: null,
      scoringStartedAt: null,
      finishedAt: null,
      keyColumns: [],
      output: null,
      error: null,
    };
    this.jobs.set(job.jobId, job);
    this.forgetOldJobs();
    this.queue = this.queue.then(() => this.run(job));
    return job;
  }

  get(jobId: string): BatchJob {
    const job = this.jobs.get(jobId);
    if (!job) throw new NotFoundError(`unknown batch prediction job '${jobId}'`, { jobId });
    return job;
  }

  /** The predictions Parquet of a finished job. */
  async output(jobId: string): Promise<{ readonly job: BatchJob; readonly stream: NodeJS.ReadableStream }> {
    const job = this.get(jobId);
    if (!job.output) throw new IllegalStateError(`batch prediction job '${jobId}' has no output (${job.status}${job.error ? `: ${job.error.message}` : ''})`, { jobId, status: job.status });
    return { job, stream: await this.options.store.read(job.output) };
  }

  /** Resolves when every queued job has finished (tests). */
  idle(): Promise<void> {
    return this.queue;
  }

  /** Shutdown: the running job stops after its current chunk and fails as interrupted; queued ones fail at once. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.queue;
  }

  private async resolveVersion(request: BatchRequest): Promise<{ version: number; alias: string | null }> {
    const { source } = this.options;
    if (request.version !== undefined) {
      const found = await source.getVersion(request.model, request.version);
      if (!found) throw new NotFoundError(`model '${request.model}' has no version ${request.version} in the registry`, { model: request.model, version: request.version });
      return { version: request.version, alias: null };
    }
    const alias = request.alias ?? championAlias;
    const model = (await source.listModels()).find((candidate) => candidate.name === request.model);
    if (!model) throw new NotFoundError(`unknown model '${request.model}'`, { model: request.model });
    const version = model.aliases[alias];
    if (version === undefined) throw new NotFoundError(`model '${request.model}' has no alias '${alias}' (aliases: ${Object.keys(model.aliases).join(', ') || 'none'})`, { model: request.model, alias });
    return { version, alias };
  }

  private async run(job: BatchJob): Promise<void> {
    const { options } = this;
    job.status = 'running';
    job.startedAt = options.now();
    if (this.stopping) {
      job.status = 'failed';
      job.finishedAt = options.now();
      job.error = { code: 'INTERNAL', message: 'serving stopped before the job ran; submit it again' };
      return;
    }
    const cleanups: (() => Promise<void>)[] = [];
    try {
      const model = await this.modelFor(job, cleanups);
      job.phase = 'fetching';
      const fetched = await options.inputs.fetch(job.input, (bytes) => (job.bytesFetched = bytes));
      cleanups.push(() => fetched.discard());
      job.inputSha256 = fetched.sha256;
      const columns = await options.engine.columns(fetched.path).catch((error: unknown) => {
        throw new BatchJobError('INPUT_UNREADABLE', `the input is not a readable Parquet file: ${messageOf(error)}`);
      });
      const specs = model.signature.inputs;
      checkSignature(specs, columns);
      const inputNames = new Set(specs.map((spec) => spec.name));
      const keys = columns.filter((column) => !inputNames.has(column.name));
      job.keyColumns = keys.map((column) => column.name);
      job.rowsTotal = await options.engine.rowCount(fetched.path);

      job.phase = 'scoring';
      job.scoringStartedAt = options.now();
      const linesPath = await options.store.temporaryPath();
      cleanups.push(() => options.store.discard(linesPath));
      const outputSpecs = model.signature.outputs;
      const outputNames = outputSpecs.map((spec) => spec.name);
      let outputColumns: OutputColumn[] | undefined;
      const lines = createWriteStream(linesPath);
      try {
        for await (const chunk of options.engine.scan(fetched.path, keys, specs, job.chunkRows)) {
          if (this.stopping) throw new BatchJobError('INTERNAL', `serving stopped after ${job.rowsDone} rows; submit the job again`);
          if (chunk.rows === 0) continue;
          const tensors: Tensor[] = specs.map((spec, index) => ({
            name: spec.name,
            datatype: spec.datatype,
            shape: spec.shape.length === 1 ? [chunk.rows] : [chunk.rows, 1],
            data: chunk.inputs[index]!,
          }));
          let outputs: Tensor[];
          try {
            outputs = await model.run(tensors, outputNames);
          } catch (error) {
            throw new BatchJobError('MODEL_FAILED', `the model failed on rows ${job.rowsDone}–${job.rowsDone + chunk.rows - 1}: ${messageOf(error)}`);
          }
          outputColumns ??= outputs.map((output) => outputColumnOf(output, job.keyColumns));
          await writeLines(lines, chunk.keys, outputs, chunk.rows);
          job.rowsDone += chunk.rows;
        }
      } finally {
        lines.end();
        await once(lines, 'close');
      }

      job.phase = 'writing';
      const parquetPath = await options.store.temporaryPath();
      cleanups.push(() => options.store.discard(parquetPath));
      const finalOutputs =
        outputColumns ?? outputSpecs.map((spec) => outputColumnOf({ name: spec.name, datatype: spec.datatype, shape: spec.shape.map((dim) => (dim === -1 ? 1 : dim)), data: new Float32Array(0) }, job.keyColumns));
      await options.engine.writePredictions(linesPath, keys, finalOutputs, parquetPath);
      job.phase = 'storing';
      const stored = await options.store.store(parquetPath);
      job.output = { ...stored, rows: job.rowsDone, columns: [...keys.map((column) => column.name), ...finalOutputs.map((column) => column.name)] };
      job.phase = 'done';
      job.status = 'succeeded';
      job.finishedAt = options.now();
      options.logger.info({ jobId: job.jobId, model: job.model, rows: job.rowsDone, output: stored.uri, seconds: (job.finishedAt - job.startedAt) / 1000 }, 'batch prediction finished');
    } catch (error) {
      job.status = 'failed';
      job.finishedAt = options.now();
      job.error = error instanceof BatchJobError ? { code: error.code, message: error.message } : error instanceof NotFoundError ? { code: 'INPUT_NOT_FOUND', message: error.message } : { code: 'INTERNAL', message: messageOf(error) };
      options.logger.warn({ jobId: job.jobId, err: error }, `batch prediction ${job.jobId} failed: ${job.error.message}`);
    } finally {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    }
  }

  /** The version as loaded here when it is served, else loaded for this job alone (and released after it). */
  private async modelFor(job: BatchJob, cleanups: (() => Promise<void>)[]): Promise<LoadedModel> {
    const { source, runtime } = this.options;
    const served = this.options.servedVersion(job.model.name, job.model.version);
    if (served) {
      served.acquire();
      cleanups.push(async () => served.releaseReference());
      return served.model;
    }
    const registered = await source.getVersion(job.model.name, job.model.version);
    if (!registered) throw new BatchJobError('MODEL_NOT_FOUND', `model '${job.model.name}' has no version ${job.model.version} in the registry`);
    const bytes = await source.downloadArtifact(job.model.name, job.model.version);
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (digest !== registered.artifact.sha256.toLowerCase()) throw new BatchJobError('INTERNAL', `the model artifact's sha256 is ${digest}, the registry recorded ${registered.artifact.sha256}`);
    const model = await runtime.load(bytes);
    cleanups.push(() => model.release());
    return model;
  }

  private forgetOldJobs(): void {
    if (this.jobs.size <= this.options.maxJobs) return;
    for (const [id, job] of this.jobs) {
      if (this.jobs.size <= this.options.maxJobs) break;
      if (job.status === 'succeeded' || job.status === 'failed') this.jobs.delete(id);
    }
  }
}

/** Every model input must be a column of the input file, with a datatype and shape batch scoring supports. */
function checkSignature(specs: readonly TensorSpec[], columns: readonly ColumnInfo[]): void {
  const names = new Set(columns.map((column) => column.name));
  const absent = specs.filter((spec) => !names.has(spec.name)).map((spec) => spec.name);
  if (absent.length > 0) {
    throw new BatchJobError(
      'SIGNATURE_MISMATCH',
      `the input has no column${absent.length > 1 ? 's' : ''} ${absent.map((name) => `'${name}'`).join(', ')} for the model's input${absent.length > 1 ? 's' : ''} (its columns: ${columns.map((column) => column.name).join(', ')})`,
    );
  }
  for (const spec of specs) {
    const oneColumn = spec.shape[0] === -1 && (spec.shape.length === 1 || (spec.shape.length === 2 && spec.shape[1] === 1));
    if (!oneColumn) {
      throw new BatchJobError('SIGNATURE_MISMATCH', `model input '${spec.name}' has shape [${spec.shape.join(', ')}]; batch scoring takes inputs of one column per row ([batch] or [batch, 1])`);
    }
    if (!supportedInputTypes.has(spec.datatype)) {
      throw new BatchJobError('SIGNATURE_MISMATCH', `model input '${spec.name}' is ${spec.datatype}; batch scoring takes FP32, FP64, INT64 and BYTES inputs`);
    }
    const column = columns.find((candidate) => candidate.name === spec.name)!;
    const textColumn = /^(Nullable\(|LowCardinality\()*(String|FixedString|Enum|UUID)/.test(column.type);
    if (spec.datatype !== 'BYTES' && textColumn) {
      throw new BatchJobError('SIGNATURE_MISMATCH', `model input '${spec.name}' is ${spec.datatype}, the input column is ${column.type}`);
    }
  }
}

/** An output's column: named after the output, `predicted_<name>` where a key column has that name (e.g. the label). */
function outputColumnOf(output: Tensor, keyColumns: readonly string[]): OutputColumn {
  const base = clickhouseType(output.datatype);
  const perRow = output.shape.slice(1).reduce((product, dim) => product * dim, 1);
  return { name: keyColumns.includes(output.name) ? `predicted_${output.name}` : output.name, type: perRow === 1 ? base : `Array(${base})` };
}

function clickhouseType(datatype: string): string {
  switch (datatype) {
    case 'FP32':
    case 'FP16':
      return 'Float32';
    case 'FP64':
      return 'Float64';
    case 'INT64':
      return 'Int64';
    case 'INT32':
      return 'Int32';
    case 'BOOL':
      return 'Bool';
    case 'BYTES':
      return 'String';
    default:
      return 'Float64';
  }
}

/** One JSON array per row: the keys as text, then each output's row (a scalar or a list). */
async function writeLines(stream: WriteStream, keys: readonly (readonly (string | null)[])[], outputs: readonly Tensor[], rows: number): Promise<void> {
  const perOutput = outputs.map((output) => {
    const rowSize = output.shape.slice(1).reduce((product, dim) => product * dim, 1);
    const values = nestedValues({ ...output, shape: [output.shape[0] ?? rows, rowSize] }) as unknown[][];
    return { rowSize, values };
  });
  let text = '';
  for (let row = 0; row < rows; row++) {
    const cells: unknown[] = [];
    for (const column of keys) cells.push(column[row]);
    for (const output of perOutput) {
      const value = output.values[row]!;
      cells.push(output.rowSize === 1 ? value[0] : value);
    }
    text += `${JSON.stringify(cells)}\n`;
    if (text.length > 1 << 20) {
      if (!stream.write(text)) await once(stream, 'drain');
      text = '';
    }
  }
  if (text.length > 0 && !stream.write(text)) await once(stream, 'drain');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
