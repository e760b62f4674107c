// The offline store on ClickHouse (embedded chDB locally). Materialization computes a view into a
// staging table and swaps it in with `ALTER TABLE … REPLACE PARTITION`, which is atomic: readers
// see all rows of a dataset version or none, a failed job leaves nothing behind, and a rerun
// replaces the partition with identical rows (REFERENCE 6.4's exact-count concern does not arise:
// nothing is appended twice).
import { randomUUID } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { UnavailableError, ValidationError } from '@loopline/errors';
import type { AppliedFeatureView } from '../../domain/definitions/catalog';
import { columnsOf, parseExpression, sqlString } from '../../domain/definitions/expression';
import type { FeatureValue } from '../../domain/online/online-values';
import type { ColumnInfo, EntityFiles, FeatureRow, OfflineStore, OfflineWriteResult } from '../../application/ports';
import { entitiesPlaceholder, quoteAnyIdentifier } from './training-set-sql';
import { createTableSql, latestPerEntitySql, materializeSelectSql, offlineDatabase, offlineTable, pushPartition, type ViewShape } from './view-sql';

const jsonSettings = { output_format_json_quote_64bit_integers: 0 } as const;

export class ClickHouseOfflineStore implements OfflineStore {
  private ready: Promise<void> | undefined;

  /**
   * @param joinKeysOf the join keys of a view, from its entities.
   * @param embedded whether ClickHouse runs in this process (chDB) and so reads local files.
   */
  constructor(
    private readonly client: ClickHouseClient,
    private readonly joinKeysOf: (view: AppliedFeatureView) => Promise<readonly string[]>,
    private readonly embedded: boolean,
  ) {}

  private database(): Promise<void> {
    this.ready ??= this.client.command({ query: `CREATE DATABASE IF NOT EXISTS ${offlineDatabase}` }).then(
      () => undefined,
      (error: unknown) => {
        this.ready = undefined;
        throw error;
      },
    );
    return this.ready;
  }

  private relation(file: string): string {
    if (!this.embedded) {
      throw new UnavailableError('reading Parquet files needs the embedded ClickHouse (chDB); a ClickHouse server (LOOPLINE_CLICKHOUSE_URL) is not supported by the feature store yet');
    }
    return `file(${sqlString(file)}, 'Parquet')`;
  }

  private async shape(view: AppliedFeatureView): Promise<ViewShape> {
    const shape = { view, joinKeys: await this.joinKeysOf(view) };
    await this.database();
    await this.client.command({ query: createTableSql(shape) });
    return shape;
  }

  async columnsOf(file: string): Promise<ColumnInfo[]> {
    try {
      const result = await this.client.query({ query: `DESCRIBE ${this.relation(file)}`, format: 'JSONEachRow' });
      return (await result.json<{ name: string; type: string }>()).map(({ name, type }) => ({ name, type }));
    } catch (error) {
      if (error instanceof UnavailableError) throw error;
      throw new ValidationError(`the dataset file is not readable Parquet: ${firstLine(error)}`, { reason: 'unreadable_parquet' });
    }
  }

  async materialize(view: AppliedFeatureView, datasetVersionId: string, file: string): Promise<OfflineWriteResult> {
    const shape = await this.shape(view);
    const columns = new Set((await this.columnsOf(file)).map((column) => column.name));
    checkColumns(shape, columns);
    const table = offlineTable(view);
    const stage = `${offlineDatabase}.\`stage_${view.name}__v${view.version}_${randomUUID().replace(/-/g, '')}\``;
    await this.client.command({ query: createTableSql(shape, stage) });
    try {
      try {
        await this.client.command({ query: `INSERT INTO ${stage} ${materializeSelectSql(shape, this.relation(file), datasetVersionId)}` });
      } catch (error) {
        throw new ValidationError(`materializing feature view "${view.name}" v${view.version} failed: ${firstLine(error)}`, { view: view.name, version: view.version });
      }
      const stats = await this.client.query({
        query: `SELECT count() AS rows, toUnixTimestamp64Milli(min(event_time)) AS start_ms, toUnixTimestamp64Milli(max(event_time)) AS end_ms FROM ${stage}`,
        format: 'JSONEachRow',
        clickhouse_settings: jsonSettings,
      });
      const [row] = await stats.json<{ rows: number; start_ms: number; end_ms: number }>();
      await this.client.command({ query: `ALTER TABLE ${table} REPLACE PARTITION ${sqlString(datasetVersionId)} FROM ${stage}` });
      const rowCount = Number(row?.rows ?? 0);
      return { rowCount, eventTimeRange: rowCount === 0 ? null : { startMs: Number(row!.start_ms), endMs: Number(row!.end_ms) } };
    } finally {
      await this.client.command({ query: `DROP TABLE IF EXISTS ${stage}` }).catch(() => undefined);
    }
  }

  async latestPerEntity(view: AppliedFeatureView, datasetVersionId: string, onBatch: (rows: readonly FeatureRow[]) => Promise<void>): Promise<number> {
    const shape = await this.shape(view);
    const result = await this.client.query({ query: latestPerEntitySql(shape, datasetVersionId), format: 'JSONEachRow', clickhouse_settings: jsonSettings });
    const rows = await result.json<Record<string, FeatureValue>>();
    const features = view.definition.features.map((feature) => feature.name);
    const batch: FeatureRow[] = rows.map((row) => ({
      keys: shape.joinKeys.map((key) => String(row[key])),
      eventTimeMs: Number(row.event_time_ms),
      values: Object.fromEntries(features.map((feature) => [feature, normalize(row[feature])])),
    }));
    for (let start = 0; start < batch.length; start += 5_000) await onBatch(batch.slice(start, start + 5_000));
    return batch.length;
  }

  async push(view: AppliedFeatureView, rows: readonly FeatureRow[], pushSequence: number): Promise<number> {
    if (rows.length === 0) return 0;
    const shape = await this.shape(view);
    const values = rows.map((row) => ({
      dataset_version_id: pushPartition,
      ...Object.fromEntries(shape.joinKeys.map((key, index) => [key, row.keys[index]])),
      // DateTime64(3, 'UTC') text: unambiguous whatever the input settings.
      event_time: new Date(row.eventTimeMs).toISOString().replace('T', ' ').replace('Z', ''),
      ...row.values,
      push_sequence: pushSequence,
    }));
    await this.client.insert({ table: offlineTable(view), values, format: 'JSONEachRow' });
    return rows.length;
  }

  /**
   * The relation of the entity rows: the file itself, or several files read one after the other
   * (each in its own row order), so the training set's row order is the same on every build.
   */
  private entityRelation(entities: EntityFiles): string {
    if (entities.files.length === 1) return this.relation(entities.files[0]!);
    const columns = entities.columns.map(quoteAnyIdentifier).join(', ');
    const parts = entities.files.map((file, index) => `SELECT ${columns}, toUInt32(${index}) AS __part, rowNumberInAllBlocks() AS __part_row FROM ${this.relation(file)}`);
    return `(SELECT ${columns} FROM (${parts.join(' UNION ALL ')}) ORDER BY __part, __part_row)`;
  }

  async writeTrainingSet(sqlTemplate: string, entities: EntityFiles, outputFile: string): Promise<number> {
    await this.database();
    const sql = sqlTemplate.split(entitiesPlaceholder).join(this.entityRelation(entities));
    try {
      await this.client.command({
        query: `INSERT INTO FUNCTION file(${sqlString(outputFile)}, 'Parquet') ${sql}`,
        // One thread: row numbers, join order and Parquet row groups come out the same every time.
        clickhouse_settings: { max_threads: 1, join_use_nulls: 1, engine_file_truncate_on_insert: 1, output_format_parquet_row_group_size: '100000' },
      });
    } catch (error) {
      throw new ValidationError(`building the training set failed: ${firstLine(error)}`, { reason: 'query_failed' });
    }
    const result = await this.client.query({ query: `SELECT count() AS rows FROM file(${sqlString(outputFile)}, 'Parquet')`, format: 'JSONEachRow', clickhouse_settings: jsonSettings });
    const [row] = await result.json<{ rows: number }>();
    return Number(row?.rows ?? 0);
  }

  async hasPartition(view: AppliedFeatureView, datasetVersionId: string): Promise<boolean> {
    await this.shape(view);
    const result = await this.client.query({
      query: `SELECT count() AS n FROM ${offlineTable(view)} WHERE dataset_version_id = ${sqlString(datasetVersionId)}`,
      format: 'JSONEachRow',
      clickhouse_settings: jsonSettings,
    });
    const [row] = await result.json<{ n: number }>();
    return Number(row?.n ?? 0) > 0;
  }

  async pushHorizon(view: AppliedFeatureView): Promise<number> {
    await this.shape(view);
    const result = await this.client.query({
      query: `SELECT max(push_sequence) AS horizon FROM ${offlineTable(view)} WHERE dataset_version_id = ${sqlString(pushPartition)}`,
      format: 'JSONEachRow',
      clickhouse_settings: jsonSettings,
    });
    const [row] = await result.json<{ horizon: number }>();
    return Number(row?.horizon ?? 0);
  }

  async engineVersion(): Promise<string> {
    const result = await this.client.query({ query: 'SELECT version() AS version', format: 'JSONEachRow' });
    const [row] = await result.json<{ version: string }>();
    return `clickhouse ${row?.version ?? 'unknown'}`;
  }
}

/** Every column a view reads must be in the dataset: a clear error names the missing ones. */
function checkColumns({ view, joinKeys }: ViewShape, columns: ReadonlySet<string>): void {
  const needed = new Map<string, string>();
  for (const key of joinKeys) needed.set(key, 'join key');
  needed.set(view.definition.timestampColumn, 'timestamp_column');
  for (const feature of view.definition.features) {
    for (const column of columnsOf(parseExpression(feature.expression))) if (!needed.has(column)) needed.set(column, `feature ${feature.name}`);
  }
  const missing = [...needed].filter(([column]) => !columns.has(column));
  if (missing.length > 0) {
    throw new ValidationError(
      `feature view "${view.name}" v${view.version} reads column(s) the dataset does not have: ${missing.map(([column, by]) => `${column} (${by})`).join(', ')}; it has: ${[...columns].join(', ')}`,
      { view: view.name, version: view.version, missing: missing.map(([column]) => column) },
    );
  }
}

function normalize(value: FeatureValue | undefined): FeatureValue {
  if (value === undefined) return null;
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  return value;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!.replace(/^Code: \d+\. DB::Exception: /, '').slice(0, 500);
}
