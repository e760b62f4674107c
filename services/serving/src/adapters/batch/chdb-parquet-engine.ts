import { mkdirSync } from 'node:fs';
import type { TensorSpec } from '../../domain/tensor/tensor';
import type { ColumnInfo, OutputColumn, ParquetEngine, RowChunk } from '../../application/batch/batch-ports';

/** The part of chDB's `Session` used here (required lazily: its native library is large and only batch jobs need it). */
interface ChdbSession {
  queryAsync(query: string, options?: { format?: string }): Promise<{ text(): string }>;
  queryStream(query: string, options?: { format?: string }): AsyncIterable<{ readonly numRows: number; raw(): Uint8Array }>;
  cleanup(): void;
}

/** Back-quotes any column name a Parquet file may hold. */
function quote(name: string): string {
  return `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;
}

function literal(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

type ColumnKind = 'text' | 'float32' | 'float64' | 'int64';

/**
 * Parquet through ClickHouse in this process (chDB), streaming: the scan selects the key columns
 * as nullable text and each model input cast to its tensor's element type (nulls become NaN, or
 * the empty string), in `RowBinary`, and decodes the byte chunks straight into typed arrays, so a
 * chunk costs no JSON and no per-value objects. One session (one data folder) per process; scans
 * run one at a time (jobs do).
 */
export class ChdbParquetEngine implements ParquetEngine {
  private session: ChdbSession | undefined;

  constructor(private readonly dataPath: string) {}

  private open(): ChdbSession {
    if (!this.session) {
      mkdirSync(this.dataPath, { recursive: true });
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { Session } = require('chdb') as { Session: new (path: string) => ChdbSession };
      this.session = new Session(this.dataPath);
    }
    return this.session;
  }

  async columns(path: string): Promise<ColumnInfo[]> {
    const text = (await this.open().queryAsync(`DESCRIBE file(${literal(path)}, Parquet)`, { format: 'JSONEachRow' })).text();
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as { name: string; type: string })
      .map((row) => ({ name: row.name, type: row.type }));
  }

  async rowCount(path: string): Promise<number> {
    return Number((await this.open().queryAsync(`SELECT count() FROM file(${literal(path)}, Parquet)`, { format: 'TSV' })).text().trim());
  }

  async *scan(path: string, keys: readonly ColumnInfo[], inputs: readonly TensorSpec[], chunkRows: number): AsyncIterable<RowChunk> {
    const kinds: ColumnKind[] = [...keys.map((): ColumnKind => 'text'), ...inputs.map(kindOf)];
    const select = [
      ...keys.map((column) => `toNullable(toString(${quote(column.name)}))`),
      ...inputs.map((spec) => {
        const column = quote(spec.name);
        switch (kindOf(spec)) {
          case 'float32':
            return `toFloat32(ifNull(toFloat32(${column}), nan))`;
          case 'float64':
            return `toFloat64(ifNull(toFloat64(${column}), nan))`;
          case 'int64':
            return `toInt64(ifNull(toInt64(${column}), 0))`;
          default:
            return `ifNull(toString(${column}), '')`;
        }
      }),
    ];
    // One thread keeps the file's row order; blocks of `chunkRows` make the chunks.
    const query = `SELECT ${select.join(', ')} FROM file(${literal(path)}, Parquet) SETTINGS max_threads = 1, max_block_size = ${chunkRows}, input_format_parquet_preserve_order = 1`;
    const decoder = new RowBinaryDecoder(kinds, keys.length);
    for await (const chunk of this.open().queryStream(query, { format: 'RowBinary' })) {
      for (const decoded of decoder.push(chunk.raw(), chunkRows)) yield decoded;
    }
    const rest = decoder.finish();
    if (rest) yield rest;
  }

  async writePredictions(linesPath: string, keys: readonly ColumnInfo[], outputs: readonly OutputColumn[], parquetPath: string): Promise<void> {
    const structure = [...keys.map((_column, index) => `k${index} Nullable(String)`), ...outputs.map((output, index) => `o${index} ${output.type}`)].join(', ');
    const select = [
      ...keys.map((column, index) => `CAST(k${index} AS ${column.type}) AS ${quote(column.name)}`),
      ...outputs.map((output, index) => `o${index} AS ${quote(output.name)}`),
    ];
    await this.open().queryAsync(
      `INSERT INTO FUNCTION file(${literal(parquetPath)}, Parquet) SELECT ${select.join(', ')} FROM file(${literal(linesPath)}, JSONCompactEachRow, ${literal(structure)}) SETTINGS max_threads = 1, engine_file_truncate_on_insert = 1, output_format_parquet_compression_method = 'zstd'`,
    );
  }

  close(): void {
    this.session?.cleanup();
    this.session = undefined;
  }
}

function kindOf(spec: TensorSpec): ColumnKind {
  switch (spec.datatype) {
    case 'FP32':
      return 'float32';
    case 'FP64':
      return 'float64';
    case 'INT64':
      return 'int64';
    default:
      return 'text';
  }
}

/**
 * Decodes `RowBinary` of a known row layout into columns: key columns (`Nullable(String)`: a null
 * byte, then a varint length and the bytes), then the inputs (`Float32`/`Float64`/`Int64` little
 * endian, or `String`). A chunk may end inside a row: the remainder waits for the next chunk.
 */
export class RowBinaryDecoder {
  private pending: Buffer = Buffer.alloc(0);
  private columns: (Float32Array | Float64Array | BigInt64Array | (string | null)[])[] = [];
  private filled = 0;
  private capacity = 0;

  constructor(
    private readonly kinds: readonly ColumnKind[],
    private readonly keyCount: number,
  ) {}

  /** Decodes what `bytes` completes; yields a chunk each time `chunkRows` rows are decoded. */
  *push(bytes: Uint8Array, chunkRows: number): Generator<RowChunk> {
    const buffer = this.pending.length === 0 ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : Buffer.concat([this.pending, bytes]);
    let offset = 0;
    for (;;) {
      if (this.filled === 0) this.allocate(chunkRows);
      const end = this.decodeRow(buffer, offset);
      if (end < 0) break;
      offset = end;
      this.filled++;
      if (this.filled === this.capacity) yield this.take();
    }
    // Copied: the engine may reuse the chunk's memory.
    this.pending = Buffer.from(buffer.subarray(offset));
  }

  finish(): RowChunk | undefined {
    if (this.pending.length > 0) throw new Error(`the query result ended inside a row (${this.pending.length} bytes left)`);
    return this.filled > 0 ? this.take() : undefined;
  }

  private allocate(rows: number): void {
    this.capacity = rows;
    this.columns = this.kinds.map((kind) => {
      switch (kind) {
        case 'float32':
          return new Float32Array(rows);
        case 'float64':
          return new Float64Array(rows);
        case 'int64':
          return new BigInt64Array(rows);
        default:
          return new Array<string | null>(rows);
      }
    });
  }

  private take(): RowChunk {
    const rows = this.filled;
    const cut = <T extends Float32Array | Float64Array | BigInt64Array | (string | null)[]>(column: T): T =>
      (rows === this.capacity ? column : Array.isArray(column) ? column.slice(0, rows) : column.subarray(0, rows)) as T;
    const columns = this.columns.map(cut);
    this.filled = 0;
    return {
      rows,
      keys: columns.slice(0, this.keyCount) as (string | null)[][],
      inputs: columns.slice(this.keyCount) as (Float32Array | Float64Array | BigInt64Array | string[])[],
    };
  }

  /** Decodes one row at `offset` into the columns; returns the offset after it, or -1 when the row is incomplete. */
  private decodeRow(buffer: Buffer, start: number): number {
    let offset = start;
    const row = this.filled;
    for (let index = 0; index < this.kinds.length; index++) {
      const kind = this.kinds[index]!;
      const column = this.columns[index]!;
      if (kind === 'float32') {
        if (offset + 4 > buffer.length) return -1;
        (column as Float32Array)[row] = buffer.readFloatLE(offset);
        offset += 4;
      } else if (kind === 'float64') {
        if (offset + 8 > buffer.length) return -1;
        (column as Float64Array)[row] = buffer.readDoubleLE(offset);
        offset += 8;
      } else if (kind === 'int64') {
        if (offset + 8 > buffer.length) return -1;
        (column as BigInt64Array)[row] = buffer.readBigInt64LE(offset);
        offset += 8;
      } else {
        const nullable = index < this.keyCount;
        if (nullable) {
          if (offset + 1 > buffer.length) return -1;
          if (buffer[offset++] === 1) {
            (column as (string | null)[])[row] = null;
            continue;
          }
        }
        let length = 0;
        let shift = 0;
        for (;;) {
          if (offset >= buffer.length) return -1;
          const byte = buffer[offset++]!;
          length |= (byte & 0x7f) << shift;
          if ((byte & 0x80) === 0) break;
          shift += 7;
        }
        if (offset + length > buffer.length) return -1;
        (column as (string | null)[])[row] = buffer.toString('utf8', offset, offset + length);
        offset += length;
      }
    }
    return offset;
  }
}
