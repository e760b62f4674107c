import type { TensorSpec } from '../../domain/tensor/tensor';

/** Where a batch job's rows come from, as the request names it. */
export type BatchInput =
  | { readonly kind: 'trainingSet'; readonly trainingSetId: string }
  | { readonly kind: 'datasetVersion'; readonly source: string; readonly datasetVersionId: string }
  | { readonly kind: 'artifact'; readonly artifactUri: string };

/** A Parquet input fetched to the local disk, its SHA-256 checked. */
export interface FetchedInput {
  readonly path: string;
  readonly sha256: string;
  readonly sizeBytes: number;
  /** Removes the local copy. */
  discard(): Promise<void>;
}

/** Fetches batch inputs: the feature store's training sets, ingestion's dataset versions, serving's own artifacts. */
export interface BatchInputSource {
  /** Cheap check that the input exists (no download); throws `NotFoundError` naming it, `ValidationError` for a malformed reference. */
  check(input: BatchInput): Promise<void>;
  fetch(input: BatchInput, onBytes: (bytes: number) => void): Promise<FetchedInput>;
}

/** A column of a Parquet file: its name and ClickHouse type. */
export interface ColumnInfo {
  readonly name: string;
  readonly type: string;
}

/** One chunk of decoded rows: the key columns as text (null where null), the model inputs as typed columns. */
export interface RowChunk {
  readonly rows: number;
  readonly keys: readonly (readonly (string | null)[])[];
  /** One per model input, in input order: Float32Array, Float64Array, BigInt64Array or string[]. */
  readonly inputs: readonly (Float32Array | Float64Array | BigInt64Array | string[])[];
}

/** An output column of the predictions file. */
export interface OutputColumn {
  readonly name: string;
  /** ClickHouse type, e.g. `Float32`, `Int64`, `Array(Float32)`. */
  readonly type: string;
}

/** Reads and writes Parquet outside the JavaScript heap (ClickHouse), streaming. */
export interface ParquetEngine {
  columns(path: string): Promise<ColumnInfo[]>;
  rowCount(path: string): Promise<number>;
  /** The rows in file order, in chunks of about `chunkRows`; never the whole file in memory. */
  scan(path: string, keys: readonly ColumnInfo[], inputs: readonly TensorSpec[], chunkRows: number): AsyncIterable<RowChunk>;
  /**
   * Turns the JSON lines written during scoring (one array per row: keys as text, then outputs)
   * into the predictions Parquet, keys cast back to their input types.
   */
  writePredictions(linesPath: string, keys: readonly ColumnInfo[], outputs: readonly OutputColumn[], parquetPath: string): Promise<void>;
}

/** Where the predictions Parquet is kept: the content-addressed artifact store. */
export interface PredictionsStore {
  temporaryPath(): Promise<string>;
  discard(path: string): Promise<void>;
  store(path: string): Promise<{ readonly uri: string; readonly sha256: string; readonly sizeBytes: number }>;
  /** A stored file's bytes, checked against its SHA-256 while they stream. */
  read(blob: { readonly sha256: string; readonly sizeBytes: number }): Promise<NodeJS.ReadableStream>;
}
