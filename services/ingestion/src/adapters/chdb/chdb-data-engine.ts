// The data engine on ClickHouse, in-process through chDB: it reads CSV, JSON Lines and Parquet
// natively, so rows never pass through JavaScript. Three steps, all on disk:
// 1. parse: the input is read once, each declared column converted to its type, into a staging
//    file (Native format) that also keeps, per column, the raw text of values that did not parse
//    and each row's number in the input;
// 2. profile: one aggregate query over the staging file (counts, nulls, mismatches, ranges,
//    categories, min/max/mean, sampled quantiles in bounded memory) and one GROUP BY per
//    categorical column;
// 3. write: the canonical Parquet, rows sorted by every column, with ONE thread, which makes the
//    bytes (and so the SHA-256, the version id) the same for the same data.
// Every query runs under a memory limit, with sorts and aggregations spilling to disk above half
// of it, and a thread limit.
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { receivedFileOf } from '@loopline/artifacts';
import { UnavailableError, ValidationError } from '@loopline/errors';
import type { InputFormat } from '../../domain/source/data-source';
import { canonicalSortColumns, isNumericType, type ColumnDefinition, type SourceDefinition } from '../../domain/source/source-definition';
import { noViolations, quantileCount, type CategoryCount, type ColumnProfile, type DatasetProfile, type Violations } from '../../domain/validation/profile';
import type { DataEngine, EngineProgress, PreparedDataset } from '../../application/ports';
import { boundLiteral, clickHouseFormat, clickHouseType, conversion, fileFunction, identifier, literal, quantileExpression } from './sql';

export interface ChdbEngineSettings {
  /** Folder for staging files (same file system as the upload area). */
  readonly workDir: string;
  /** Memory one query may use; sorts and aggregations spill to disk above half of it. */
  readonly maxMemoryBytes: number;
  readonly threads: number;
  /** Most frequent values kept per categorical column in the profile. */
  readonly topCategories?: number;
}

type Row = Record<string, unknown>;

/** Settings for reading each format as text where the declared type decides the parsing. */
const readSettings: Readonly<Record<InputFormat, Record<string, string | number>>> = {
  csv: {
    input_format_csv_use_best_effort_in_schema_inference: 0,
    input_format_with_names_use_header: 1,
    input_format_skip_unknown_fields: 1,
    input_format_csv_empty_as_default: 1,
    input_format_allow_errors_num: 0,
    input_format_allow_errors_ratio: 0,
    input_format_max_rows_to_read_for_schema_inference: 100,
  },
  jsonl: {
    input_format_skip_unknown_fields: 1,
    input_format_json_read_numbers_as_strings: 1,
    input_format_json_read_bools_as_strings: 1,
    input_format_json_read_objects_as_strings: 1,
    input_format_json_read_arrays_as_strings: 1,
    input_format_json_infer_incomplete_types_as_strings: 1,
    input_format_json_try_infer_numbers_from_strings: 0,
    input_format_try_infer_integers: 0,
    input_format_try_infer_dates: 0,
    input_format_try_infer_datetimes: 0,
    input_format_allow_errors_num: 0,
    input_format_max_rows_to_read_for_schema_inference: 1000,
  },
  parquet: {},
};

/** ClickHouse error types that mean "this input is not what it claims to be", not a fault of ours. */
const dataErrorTypes = new Set([
  'INCORRECT_DATA',
  'CANNOT_READ_ALL_DATA',
  'CANNOT_PARSE_INPUT_ASSERTION_FAILED',
  'CANNOT_PARSE_TEXT',
  'CANNOT_PARSE_QUOTED_STRING',
  'CANNOT_PARSE_ESCAPE_SEQUENCE',
  'CANNOT_PARSE_NUMBER',
  'CANNOT_PARSE_DATE',
  'CANNOT_PARSE_DATETIME',
  'CANNOT_PARSE_BOOL',
  'CANNOT_EXTRACT_TABLE_STRUCTURE',
  'INCORRECT_NUMBER_OF_COLUMNS',
  'ATTEMPT_TO_READ_AFTER_EOF',
  'UNEXPECTED_END_OF_FILE',
  'TOO_LARGE_STRING_SIZE',
  'ONLY_NULLS_WHILE_READING_SCHEMA',
  'CANNOT_SKIP_UNKNOWN_FIELD',
  'DUPLICATE_COLUMN',
  'EMPTY_DATA_PASSED',
  'TYPE_MISMATCH',
  'ILLEGAL_COLUMN',
]);

export class ChdbDataEngine implements DataEngine {
  private readonly topCategories: number;

  constructor(
    private readonly client: ClickHouseClient,
    private readonly settings: ChdbEngineSettings,
  ) {
    this.topCategories = settings.topCategories ?? 1_000;
  }

  async prepare(input: {
    readonly path: string;
    readonly format: InputFormat;
    readonly definition: SourceDefinition;
    readonly source: string;
    readonly onProgress: EngineProgress;
  }): Promise<PreparedDataset> {
    const { path, format, definition } = input;
    const dir = join(this.settings.workDir, `work-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 10)}`);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const stage = join(dir, 'stage.native');
    const output = join(dir, 'canonical.parquet');
    try {
      input.onProgress('parsing');
      const fileColumns = await this.describe(path, format, input.source);
      const unexpectedColumns = [...fileColumns.keys()].filter((name) => !definition.columns.some((column) => column.name === name));
      if (format !== 'jsonl') {
        // CSV headers and Parquet schemas list every column: a declared one missing is a file
        // that does not match the schema. (JSON Lines may omit a key in every row: its values are null.)
        const missing = definition.columns.filter((column) => !fileColumns.has(column.name));
        if (missing.length > 0) {
          throw new ValidationError(
            `the ${format} file does not match the schema of source "${input.source}": it has no column ${missing.map((column) => `"${column.name}"`).join(', ')} (its columns: ${[...fileColumns.keys()].join(', ')})`,
            { field: 'body', source: input.source, column: missing[0]!.name, missingColumns: missing.map((column) => column.name), fileColumns: [...fileColumns.keys()] },
          );
        }
      }
      await this.stage(path, format, definition, fileColumns, stage, input.source);
      input.onProgress('profiling');
      const profile = await this.profile(stage, definition, unexpectedColumns);
      input.onProgress('writing', { rowCount: profile.rowCount });
      await this.writeCanonical(stage, definition, output);
      // The canonical file leaves the work folder for the upload area, where the store takes it.
      const canonical = await receivedFileOf(output);
      const kept = join(this.settings.workDir, `${canonical.sha256}-${Math.random().toString(36).slice(2, 10)}.parquet`);
      await rename(output, kept);
      return { profile, canonical: { ...canonical, path: kept } };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * The file's column names and ClickHouse types, as the format reads them. A CSV header is read
   * here (schema inference would fail on a malformed row without saying which); JSON Lines keys are
   * inferred from the first rows, and a file too broken to infer fails later, at the row.
   */
  private async describe(path: string, format: InputFormat, source: string): Promise<Map<string, string>> {
    if (format === 'csv') return new Map((await readCsvHeader(path)).map((name) => [name, 'Nullable(String)']));
    try {
      const rows = await this.rows(`DESCRIBE ${fileFunction(path, clickHouseFormat[format])}`, readSettings[format], { format, source });
      return new Map(rows.map((row) => [String(row.name), String(row.type)]));
    } catch (error) {
      if (format === 'jsonl' && error instanceof ValidationError) return new Map();
      throw error;
    }
  }

  private async stage(
    path: string,
    format: InputFormat,
    definition: SourceDefinition,
    fileColumns: ReadonlyMap<string, string>,
    stage: string,
    source: string,
  ): Promise<void> {
    // JSON Lines and CSV read every declared column as text (the declared type parses it);
    // Parquet reads its own types and casts exactly.
    const sourceTypeOf = (column: ColumnDefinition) => (format === 'parquet' ? fileColumns.get(column.name)! : 'Nullable(String)');
    const present = definition.columns.filter((column) => format === 'jsonl' || fileColumns.has(column.name));
    const structure = present.map((column) => `${identifier(column.name)} ${sourceTypeOf(column)}`).join(', ');
    const inner = definition.columns.map((column, index) => {
      if (!present.includes(column)) {
        return `CAST(NULL, 'Nullable(String)') AS ${identifier(`__text_${index}`)}, CAST(NULL, ${literal(`Nullable(${clickHouseType[column.type]})`)}) AS ${identifier(column.name)}`;
      }
      const { text, parsed } = conversion(column, sourceTypeOf(column), `__raw_${index}`);
      return `${text} AS ${identifier(`__text_${index}`)}, ${parsed} AS ${identifier(column.name)}`;
    });
    const outer = definition.columns.map((column, index) => {
      const name = identifier(column.name);
      const text = identifier(`__text_${index}`);
      return `${name}, if(${text} IS NOT NULL AND ${name} IS NULL, ${text}, NULL) AS ${identifier(`__bad_${index}`)}`;
    });
    // Raw columns are renamed first: an alias equal to a column name would shadow the column.
    const raw = present.map((column) => `${identifier(column.name)} AS ${identifier(`__raw_${definition.columns.indexOf(column)}`)}`);
    const query = `INSERT INTO FUNCTION ${fileFunction(stage, 'Native', stageStructure(definition))}
      SELECT __row, ${outer.join(', ')}
      FROM (SELECT __row, ${inner.join(', ')}
            FROM (SELECT _row_number + 1 AS __row${raw.map((r) => `, ${r}`).join('')} FROM ${fileFunction(path, clickHouseFormat[format], structure)}))`;
    await this.command(query, { ...readSettings[format], ...this.limits() }, { format, source });
  }

  private async profile(stage: string, definition: SourceDefinition, unexpectedColumns: readonly string[]): Promise<DatasetProfile> {
    const parts: string[] = ['count() AS rows'];
    definition.columns.forEach((column, index) => {
      const c = identifier(column.name);
      const bad = identifier(`__bad_${index}`);
      parts.push(
        `count(${c}) AS v${index}`,
        `countIf(${c} IS NULL AND ${bad} IS NULL) AS n${index}`,
        ...violationParts(`m${index}`, `${bad} IS NOT NULL`, bad),
        `uniq(${c}) AS u${index}`,
        ...minMaxParts(column, c, index),
      );
      const quantiles = quantileExpression(column.type, c);
      if (quantiles) {
        const levels = Array.from({ length: quantileCount }, (_, level) => (level / (quantileCount - 1)).toFixed(2)).join(', ');
        parts.push(`quantilesDeterministicIf(${levels})(${quantiles}, __row, ${c} IS NOT NULL) AS q${index}`);
      }
      if (column.min !== null || column.max !== null) {
        const conditions = [
          ...(column.min !== null ? [`${c} < ${boundLiteral(column.type, column.min)}`] : []),
          ...(column.max !== null ? [`${c} > ${boundLiteral(column.type, column.max)}`] : []),
        ];
        parts.push(...violationParts(`r${index}`, `(${conditions.join(' OR ')})`, `toString(${c})`));
      }
      if (column.categories !== null) {
        const allowed = `[${column.categories.map(literal).join(', ')}]`;
        parts.push(...violationParts(`k${index}`, `(${c} IS NOT NULL AND NOT has(${allowed}, assumeNotNull(${c})))`, c));
      }
    });
    const [row] = await this.rows(`SELECT ${parts.join(',\n ')} FROM ${fileFunction(stage, 'Native', stageStructure(definition))}`, this.limits(), undefined);
    const rowCount = Number(row!.rows);
    const columns: ColumnProfile[] = [];
    for (const [index, column] of definition.columns.entries()) {
      const count = Number(row![`v${index}`]);
      const topCategories = column.type === 'string' || column.type === 'bool' ? await this.categories(stage, definition, column) : null;
      const quantiles = row![`q${index}`];
      columns.push({
        name: column.name,
        type: column.type,
        count,
        nullCount: Number(row![`n${index}`]),
        typeMismatch: violations(row!, `m${index}`) ?? noViolations,
        outOfRange: column.min !== null || column.max !== null ? (violations(row!, `r${index}`) ?? noViolations) : null,
        unknownCategory: column.categories !== null ? (violations(row!, `k${index}`) ?? noViolations) : null,
        min: count > 0 ? valueOf(column, row![`lo${index}`]) : null,
        max: count > 0 ? valueOf(column, row![`hi${index}`]) : null,
        mean: count > 0 && row![`avg${index}`] !== undefined && row![`avg${index}`] !== null ? Number(row![`avg${index}`]) : null,
        distinctCount: Number(row![`u${index}`]),
        quantiles: count > 0 && Array.isArray(quantiles) ? quantiles.map(Number) : null,
        topCategories: topCategories?.top ?? null,
        otherCategoriesCount: topCategories ? count - topCategories.top.reduce((sum, entry) => sum + entry.count, 0) : 0,
      });
    }
    const eventTime = definition.eventTimeColumn ? columns.find((column) => column.name === definition.eventTimeColumn) : undefined;
    return {
      rowCount,
      columns,
      unexpectedColumns: [...unexpectedColumns].sort(),
      eventTimeRange: eventTime && eventTime.min !== null && eventTime.max !== null ? { start: String(eventTime.min), end: String(eventTime.max) } : null,
    };
  }

  private async categories(stage: string, definition: SourceDefinition, column: ColumnDefinition): Promise<{ top: CategoryCount[] }> {
    const c = identifier(column.name);
    const rows = await this.rows(
      `SELECT toString(${c}) AS value, count() AS n FROM ${fileFunction(stage, 'Native', stageStructure(definition))} WHERE ${c} IS NOT NULL GROUP BY value ORDER BY n DESC, value ASC LIMIT ${this.topCategories}`,
      this.limits(),
      undefined,
    );
    return { top: rows.map((entry) => ({ value: String(entry.value), count: Number(entry.n) })) };
  }

  private async writeCanonical(stage: string, definition: SourceDefinition, output: string): Promise<void> {
    const columns = definition.columns.map((column) => identifier(column.name)).join(', ');
    const order = canonicalSortColumns(definition)
      .map((name) => `${identifier(name)} ASC NULLS LAST`)
      .join(', ');
    await this.command(`INSERT INTO FUNCTION ${fileFunction(output, 'Parquet')} SELECT ${columns} FROM ${fileFunction(stage, 'Native', stageStructure(definition))} ORDER BY ${order}`, {
      ...this.limits(),
      // One thread: the same rows arrive in the same blocks, so the writer makes the same bytes.
      max_threads: 1,
      output_format_parquet_compression_method: 'zstd',
      // A row group is buffered whole before it is written: keep it small enough for the memory limit.
      output_format_parquet_row_group_size: 262_144,
      output_format_parquet_row_group_size_bytes: Math.min(64 * 1024 * 1024, Math.floor(this.settings.maxMemoryBytes / 4)),
      output_format_parquet_string_as_string: 1,
    }, undefined);
  }

  private limits(): Record<string, string | number> {
    const { maxMemoryBytes, threads } = this.settings;
    return {
      max_threads: threads,
      max_memory_usage: maxMemoryBytes,
      max_bytes_before_external_sort: Math.floor(maxMemoryBytes / 2),
      max_bytes_before_external_group_by: Math.floor(maxMemoryBytes / 2),
      output_format_json_quote_64bit_integers: 0,
      output_format_json_quote_denormals: 0,
      engine_file_truncate_on_insert: 1,
    };
  }

  private async rows(query: string, settings: Record<string, string | number>, input: { format: InputFormat; source: string } | undefined): Promise<Row[]> {
    try {
      const result = await this.client.query({ query, format: 'JSONEachRow', clickhouse_settings: settings as never });
      return await result.json<Row>();
    } catch (error) {
      throw this.translate(error, input);
    }
  }

  private async command(query: string, settings: Record<string, string | number>, input: { format: InputFormat; source: string } | undefined): Promise<void> {
    try {
      await this.client.command({ query, clickhouse_settings: settings as never });
    } catch (error) {
      throw this.translate(error, input);
    }
  }

  /** Input errors become ValidationErrors naming the problem (and row); a memory limit is UNAVAILABLE; the rest stays as it is. */
  private translate(error: unknown, input: { format: InputFormat; source: string } | undefined): unknown {
    const type = (error as { type?: unknown })?.type;
    const message = error instanceof Error ? error.message : String(error);
    if (type === 'MEMORY_LIMIT_EXCEEDED') {
      return new UnavailableError(
        `ingestion needed more memory than its limit of ${Math.round(this.settings.maxMemoryBytes / 1024 / 1024)} MiB (LOOPLINE_INGESTION_MAX_MEMORY_MB); retry later or raise the limit`,
        { limitBytes: this.settings.maxMemoryBytes, engine: message.split("\n")[0]!.slice(0, 300) },
      );
    }
    if (input && typeof type === 'string' && (dataErrorTypes.has(type) || type.startsWith('CANNOT_PARSE'))) {
      return dataError(message, input.format, input.source);
    }
    if (input && /Parquet|magic bytes|Cannot parse input|at row \d+/i.test(message)) return dataError(message, input.format, input.source);
    return error;
  }
}

/** The names in a CSV file's header row (RFC 4180 quoting), read from its first 1 MiB. */
async function readCsvHeader(path: string): Promise<string[]> {
  const handle = await open(path, 'r');
  let text: string;
  try {
    const buffer = Buffer.alloc(1024 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    text = buffer.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '');
  } finally {
    await handle.close();
  }
  const names: string[] = [];
  let field = '';
  let quoted = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index]!;
    if (quoted) {
      if (char === '"' && text[index + 1] === '"') {
        field += '"';
        index += 1;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      names.push(field.trim());
      field = '';
    } else if (char === '\n' || char === '\r') {
      names.push(field.trim());
      return names;
    } else field += char;
  }
  throw new ValidationError('not a readable CSV file: no complete header row (a first line naming the columns) in its first MiB', { field: 'body', format: 'csv' });
}

/** The staging file's columns, given explicitly: a Native file with no rows has no header to infer them from. */
function stageStructure(definition: SourceDefinition): string {
  const columns = definition.columns.flatMap((column, index) => [
    `${identifier(column.name)} Nullable(${clickHouseType[column.type]})`,
    `${identifier(`__bad_${index}`)} Nullable(String)`,
  ]);
  return ['__row UInt64', ...columns].join(', ');
}

function violationParts(prefix: string, condition: string, sample: string): string[] {
  return [`countIf(${condition}) AS ${prefix}c`, `minIf(__row, ${condition}) AS ${prefix}r`, `argMinIf(substring(toString(${sample}), 1, 200), __row, ${condition}) AS ${prefix}s`];
}

function violations(row: Row, prefix: string): Violations | null {
  const count = Number(row[`${prefix}c`] ?? 0);
  if (!(count > 0)) return null;
  return { count, firstRow: Number(row[`${prefix}r`]), sample: row[`${prefix}s`] === null || row[`${prefix}s`] === undefined ? null : String(row[`${prefix}s`]) };
}

function minMaxParts(column: ColumnDefinition, c: string, index: number): string[] {
  switch (column.type) {
    case 'int64':
    case 'float64':
      return [`min(${c}) AS lo${index}`, `max(${c}) AS hi${index}`, `avg(${c}) AS avg${index}`];
    case 'timestamp':
      return [`toUnixTimestamp64Micro(min(${c})) AS lo${index}`, `toUnixTimestamp64Micro(max(${c})) AS hi${index}`];
    case 'date':
      return [`toString(min(${c})) AS lo${index}`, `toString(max(${c})) AS hi${index}`];
    case 'string':
      return [`substring(min(${c}), 1, 200) AS lo${index}`, `substring(max(${c}), 1, 200) AS hi${index}`];
    case 'bool':
      return [`min(${c}) AS lo${index}`, `max(${c}) AS hi${index}`];
    default: {
      const unreachable: never = column.type;
      throw new Error(`unknown column type ${String(unreachable)}`);
    }
  }
}

function valueOf(column: ColumnDefinition, value: unknown): number | string | boolean | null {
  if (value === null || value === undefined) return null;
  if (column.type === 'timestamp') return new Date(Number(value) / 1000).toISOString();
  if (isNumericType(column.type) && column.type !== 'date') return Number(value);
  if (column.type === 'bool') return value === true || value === 1 || value === 'true';
  return String(value);
}

function dataError(message: string, format: InputFormat, source: string): ValidationError {
  const row = /\(at row (\d+)\)/.exec(message)?.[1];
  const column = /Column \d+,\s+name: ([A-Za-z0-9_]+)/.exec(message)?.[1];
  const firstLine = message
    .split('\n')[0]!
    .replace(/\s*\(in file\/uri [^)]*\)/, '')
    .replace(/:?\s*\(at row \d+\)/, '')
    .replace(/[:\s]+$/, '')
    .trim();
  const what = format === 'parquet' ? 'not a readable Parquet file' : `not a readable ${format === 'csv' ? 'CSV' : 'JSON Lines'} file`;
  return new ValidationError(`the file for source "${source}" is ${what}${row ? ` (row ${row})` : ''}: ${firstLine}`, {
    field: 'body',
    format,
    ...(row ? { row: Number(row) } : {}),
    ...(column ? { column } : {}),
  });
}
