// The offline store on ClickHouse (embedded chDB locally). Materialization computes a view into a
// staging table and swaps it in with `ALTER TABLE … REPLACE PARTITION`, which is atomic: readers
// see all rows of a dataset version or none, a failed job leaves nothing behind, and a rerun
// replaces the partition with identical rows (REFERENCE 6.4's exact-count concern does not arise:
// nothing is appended twice).
//
// Dataset versions reach ClickHouse by the configured access mode (DatasetAccess): `local-files`
// reads the file this process downloaded (`file()`; only an embedded chDB sees it) and writes
// training sets with `INSERT INTO FUNCTION file`; `ingestion-url` has ClickHouse fetch the version
// from the ingestion service (`url()`), verifies its SHA-256 there, and streams training sets back
// through the client (`SELECT … FORMAT Parquet`), so a ClickHouse server works. The tests run both
// modes on chDB: `ingestion-url` issues exactly the queries a server gets.
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { ClickHouseClient } from '@clickhouse/client';
import { IllegalStateError, IntegrityError, UnavailableError, ValidationError } from '@loopline/errors';
import type { AppliedFeatureView } from '../../domain/definitions/catalog';
import { columnsOf, parseExpression, sqlString } from '../../domain/definitions/expression';
import { hasWindows, longestWindowSeconds, windowInputs, type RecordedVersion } from '../../domain/definitions/windows';
import type { FeatureValue } from '../../domain/online/online-values';
import type { ColumnInfo, DatasetAccess, DatasetFile, EntityFiles, FeatureRow, OfflineStore, OfflineWriteResult } from '../../application/ports';
import { parquetRowCount } from '../parquet/parquet-row-count';
import { entitiesPlaceholder, quoteAnyIdentifier } from './training-set-sql';
import { createTableSql, latestPerEntitySql, materializeSelectSql, offlineDatabase, offlineTable, pushPartition, type ViewShape } from './view-sql';
import { createSourceTableSql, recordedVersionsSql, sourceRowsSelectSql, sourceTable, windowedSelectSql } from './window-sql';

const jsonSettings = { output_format_json_quote_64bit_integers: 0 } as const;

// One thread: row numbers, join order and Parquet row groups come out the same every time, in
// either output path (the bytes of `INSERT INTO FUNCTION file` and of `FORMAT Parquet` are equal).
const trainingSetSettings = { max_threads: 1, join_use_nulls: 1, output_format_parquet_row_group_size: '100000' } as const;

// Queries reading from ingestion with `url()` retry a failed fetch a little, then fail: by default
// ClickHouse retries for minutes (10 tries, backoff to 10 s, at several layers: 130 s measured
// against a 503), far past any caller's patience. The job itself is retried by its caller (a
// request, the pipeline task's retry policy, the redelivered event).
// (UInt64 settings are strings in the client's types.)
const urlSettings = { http_max_tries: '3', http_retry_initial_backoff_ms: '100', http_retry_max_backoff_ms: '1000' } as const;

const emptySha256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** Dataset versions whose SHA-256 ClickHouse confirmed, remembered at most this many. */
const maxVerified = 10_000;

export interface OfflineDatasetAccess {
  readonly mode: DatasetAccess;
  /** The ingestion service's base URL as ClickHouse reaches it (`ingestion-url`). */
  readonly ingestionUrl: string;
}

export class ClickHouseOfflineStore implements OfflineStore {
  private ready: Promise<void> | undefined;
  private readonly verified = new Map<string, Promise<void>>();

  /**
   * @param joinKeysOf the join keys of a view, from its entities.
   * @param access how ClickHouse reaches dataset versions (`local-files` needs the embedded chDB).
   */
  constructor(
    private readonly client: ClickHouseClient,
    private readonly joinKeysOf: (view: AppliedFeatureView) => Promise<readonly string[]>,
    private readonly access: OfflineDatasetAccess,
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

  /** The table function reading a dataset version's Parquet, by the access mode. */
  private async relation(dataset: DatasetFile): Promise<string> {
    const mode = this.access.mode;
    switch (mode) {
      case 'local-files':
        if (dataset.path === null) throw new IllegalStateError(`dataset version ${dataset.info.source}/${dataset.info.versionId} was not downloaded, but the offline store reads local files`);
        return `file(${sqlString(dataset.path)}, 'Parquet')`;
      case 'ingestion-url':
        await this.verify(dataset);
        return `url(${sqlString(this.dataUrl(dataset))}, 'Parquet')`;
      default: {
        const unknown: never = mode;
        throw new IllegalStateError(`unknown dataset access mode ${String(unknown)}`);
      }
    }
  }

  /** Settings of a query that reads dataset versions (bounded `url()` retries with `ingestion-url`). */
  private readSettings(): Partial<typeof urlSettings> {
    return this.access.mode === 'ingestion-url' ? { ...urlSettings } : {};
  }

  /** Ingestion's download route of the version; `url()` expands globs, so none may stay unescaped. */
  private dataUrl({ info }: DatasetFile): string {
    const segment = (text: string) => encodeURIComponent(text).replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
    return `${this.access.ingestionUrl.replace(/\/+$/, '')}/v1/sources/${segment(info.source)}/versions/${segment(info.versionId)}/data`;
  }

  /**
   * With `ingestion-url` this process never sees the bytes, so ClickHouse hashes what it fetches
   * (`SHA256` over the body read as one `RawBLOB` value) and a difference from ingestion's
   * description is refused as `DATA_LOSS`, as a local download would be. Once per version and
   * process: ingestion's versions are immutable and content-addressed, so the later fetches of
   * the same URL deliver the same bytes (and ingestion itself cuts off a blob that fails its own
   * SHA-256 check before the Parquet footer, so a damaged body never reads as valid Parquet).
   */
  private verify(dataset: DatasetFile): Promise<void> {
    const { source, versionId, sha256 } = dataset.info;
    const key = `${source}\u0000${versionId}\u0000${sha256}`;
    let check = this.verified.get(key);
    if (!check) {
      check = this.hashAtClickHouse(dataset).then((actual) => {
        if (actual !== sha256) {
          throw new IntegrityError(`dataset version ${source}/${versionId} arrived at ClickHouse with SHA-256 ${actual}, but ingestion describes ${sha256}`, {
            source,
            versionId,
            expected: sha256,
            actual,
          });
        }
      });
      check.catch(() => this.verified.delete(key));
      if (this.verified.size >= maxVerified) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(key, check);
    }
    return check;
  }

  private async hashAtClickHouse(dataset: DatasetFile): Promise<string> {
    const url = this.dataUrl(dataset);
    try {
      const result = await this.client.query({ query: `SELECT lower(hex(SHA256(raw_blob))) AS sha256 FROM url(${sqlString(url)}, 'RawBLOB')`, format: 'JSONEachRow', clickhouse_settings: urlSettings });
      const [row] = await result.json<{ sha256: string }>();
      // An empty body is no row at all.
      return row?.sha256 ?? emptySha256;
    } catch (error) {
      throw this.unreachable(error) ?? new UnavailableError(`ClickHouse could not hash dataset version ${dataset.info.source}/${dataset.info.versionId}: ${firstLine(error)}`);
    }
  }

  /**
   * An error of ClickHouse fetching from ingestion (refused, timed out, an HTTP error status) as
   * UnavailableError: the dataset is not at fault, and a retry may succeed.
   */
  private unreachable(error: unknown): UnavailableError | undefined {
    if (this.access.mode !== 'ingestion-url') return undefined;
    const message = error instanceof Error ? error.message : String(error);
    const code = (error as { code?: unknown } | null)?.code;
    if (!/Received error from remote server|Poco::Exception|Connection refused|Network is unreachable|Host not found|NETWORK_ERROR|SOCKET_TIMEOUT/i.test(message) && !['86', '209', '210', '1000'].includes(String(code))) return undefined;
    return new UnavailableError(`ClickHouse cannot fetch dataset versions from ingestion at ${this.access.ingestionUrl}: ${firstLine(error)}`, { reason: 'dataset_unreachable' });
  }

  private async shape(view: AppliedFeatureView): Promise<ViewShape> {
    const shape = { view, joinKeys: await this.joinKeysOf(view) };
    await this.database();
    await this.client.command({ query: createTableSql(shape) });
    return shape;
  }

  async columnsOf(dataset: DatasetFile): Promise<ColumnInfo[]> {
    const relation = await this.relation(dataset);
    try {
      const result = await this.client.query({ query: `DESCRIBE ${relation}`, format: 'JSONEachRow', clickhouse_settings: this.readSettings() });
      return (await result.json<{ name: string; type: string }>()).map(({ name, type }) => ({ name, type }));
    } catch (error) {
      throw this.unreachable(error) ?? new ValidationError(`the dataset file is not readable Parquet: ${firstLine(error)}`, { reason: 'unreadable_parquet' });
    }
  }

  async materialize(view: AppliedFeatureView, datasetVersionId: string, dataset: DatasetFile): Promise<OfflineWriteResult> {
    const shape = await this.shape(view);
    const columns = new Set((await this.columnsOf(dataset)).map((column) => column.name));
    const relation = await this.relation(dataset);
    checkColumns(shape, columns);
    if (hasWindows(view.definition)) return this.materializeWindowed(shape, datasetVersionId, relation);
    const stage = this.stageName('stage', view);
    await this.client.command({ query: createTableSql(shape, stage) });
    try {
      await this.insertOrFail(view, `INSERT INTO ${stage} ${materializeSelectSql(shape, relation, datasetVersionId)}`);
      const result = await this.stageStats(stage);
      await this.client.command({ query: `ALTER TABLE ${offlineTable(view)} REPLACE PARTITION ${sqlString(datasetVersionId)} FROM ${stage}` });
      return { ...result, windowDatasetVersionIds: [] };
    } finally {
      await this.dropQuietly(stage);
    }
  }

  /**
   * A view with windowed aggregations: the version's source rows are staged in the source table's
   * shape (the one read of the dataset), its place in the view version's materialization order is
   * looked up (a rematerialized version keeps its own, a new one comes last), the features are
   * computed from the staged rows and the earlier versions' rows that can fall in its windows, and
   * both stages are swapped in, the source rows first: if the feature swap then fails, a source
   * partition added by this job is dropped again (a crash right between the two leaves it, and a
   * retry keeps its place); no feature of the version is visible before the second swap. The caller
   * serializes the materializations of one view version (their order is the windows' input).
   */
  private async materializeWindowed(shape: ViewShape, datasetVersionId: string, relation: string): Promise<OfflineWriteResult> {
    const { view } = shape;
    await this.client.command({ query: createSourceTableSql(shape) });
    const recorded = await this.recordedVersions(view);
    const sourceStage = this.stageName('stage_src', view);
    const stage = this.stageName('stage', view);
    await this.client.command({ query: createSourceTableSql(shape, sourceStage) });
    await this.client.command({ query: createTableSql(shape, stage) });
    try {
      const sequence = windowInputs(recorded, datasetVersionId, null, 0).sequence;
      await this.insertOrFail(view, `INSERT INTO ${sourceStage} ${sourceRowsSelectSql(shape, relation, datasetVersionId, sequence)}`);
      const own = await this.client.query({
        query: `SELECT count() AS rows, min(__ms) AS start_ms, max(__ms) AS end_ms FROM ${sourceStage}`,
        format: 'JSONEachRow',
        clickhouse_settings: jsonSettings,
      });
      const [ownRow] = await own.json<{ rows: number; start_ms: number; end_ms: number }>();
      const rows = Number(ownRow?.rows ?? 0) === 0 ? null : { startMs: Number(ownRow!.start_ms), endMs: Number(ownRow!.end_ms) };
      const inputs = windowInputs(recorded, datasetVersionId, rows, longestWindowSeconds(view.definition) * 1000);
      const earlier = inputs.readRange && { datasetVersionIds: inputs.earlier.map((version) => version.datasetVersionId), ...inputs.readRange };
      await this.insertOrFail(view, `INSERT INTO ${stage} ${windowedSelectSql(shape, sourceStage, datasetVersionId, earlier)}`, false);
      const result = await this.stageStats(stage);
      const wasRecorded = recorded.some((version) => version.datasetVersionId === datasetVersionId);
      await this.client.command({ query: `ALTER TABLE ${sourceTable(view)} REPLACE PARTITION ${sqlString(datasetVersionId)} FROM ${sourceStage}` });
      try {
        await this.client.command({ query: `ALTER TABLE ${offlineTable(view)} REPLACE PARTITION ${sqlString(datasetVersionId)} FROM ${stage}` });
      } catch (error) {
        // Nothing of a version seen for the first time stays behind (best effort: a crash right
        // here leaves its rows recorded, which later versions' windows then read, as after success).
        if (!wasRecorded) await this.client.command({ query: `ALTER TABLE ${sourceTable(view)} DROP PARTITION ${sqlString(datasetVersionId)}` }).catch(() => undefined);
        throw error;
      }
      return { ...result, windowDatasetVersionIds: earlier?.datasetVersionIds ?? [] };
    } finally {
      await this.dropQuietly(sourceStage);
      await this.dropQuietly(stage);
    }
  }

  /** The dataset versions whose source rows a windowed view version keeps, in materialization order. */
  private async recordedVersions(view: AppliedFeatureView): Promise<RecordedVersion[]> {
    const result = await this.client.query({ query: recordedVersionsSql(view), format: 'JSONEachRow', clickhouse_settings: jsonSettings });
    const rows = await result.json<{ dataset_version_id: string; sequence: number; start_ms: number; end_ms: number }>();
    return rows.map((row) => ({ datasetVersionId: row.dataset_version_id, sequence: Number(row.sequence), eventTimeRange: { startMs: Number(row.start_ms), endMs: Number(row.end_ms) } }));
  }

  /** A staging table's name: `stage_` first, so every leftover is easy to find. */
  private stageName(kind: 'stage' | 'stage_src', view: AppliedFeatureView): string {
    return `${offlineDatabase}.\`${kind}_${view.name}__v${view.version}_${randomUUID().replace(/-/g, '')}\``;
  }

  /** Runs a staging INSERT; an error is the dataset's (a type the expressions cannot take) unless ClickHouse could not fetch it. */
  private async insertOrFail(view: AppliedFeatureView, query: string, readsDataset = true): Promise<void> {
    try {
      await this.client.command({ query, clickhouse_settings: readsDataset ? this.readSettings() : {} });
    } catch (error) {
      throw this.unreachable(error) ?? new ValidationError(`materializing feature view "${view.name}" v${view.version} failed: ${firstLine(error)}`, { view: view.name, version: view.version });
    }
  }

  private async stageStats(stage: string): Promise<{ rowCount: number; eventTimeRange: OfflineWriteResult['eventTimeRange'] }> {
    const stats = await this.client.query({
      query: `SELECT count() AS rows, toUnixTimestamp64Milli(min(event_time)) AS start_ms, toUnixTimestamp64Milli(max(event_time)) AS end_ms FROM ${stage}`,
      format: 'JSONEachRow',
      clickhouse_settings: jsonSettings,
    });
    const [row] = await stats.json<{ rows: number; start_ms: number; end_ms: number }>();
    const rowCount = Number(row?.rows ?? 0);
    return { rowCount, eventTimeRange: rowCount === 0 ? null : { startMs: Number(row!.start_ms), endMs: Number(row!.end_ms) } };
  }

  private async dropQuietly(table: string): Promise<void> {
    await this.client.command({ query: `DROP TABLE IF EXISTS ${table}` }).catch(() => undefined);
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
   * The relation of the entity rows: the dataset version itself, or several read one after the
   * other (each in its own row order), so the training set's row order is the same on every build.
   */
  private async entityRelation(entities: EntityFiles): Promise<string> {
    const relations: string[] = [];
    for (const dataset of entities.files) relations.push(await this.relation(dataset));
    if (relations.length === 1) return relations[0]!;
    const columns = entities.columns.map(quoteAnyIdentifier).join(', ');
    const parts = relations.map((relation, index) => `SELECT ${columns}, toUInt32(${index}) AS __part, rowNumberInAllBlocks() AS __part_row FROM ${relation}`);
    return `(SELECT ${columns} FROM (${parts.join(' UNION ALL ')}) ORDER BY __part, __part_row)`;
  }

  async writeTrainingSet(sqlTemplate: string, entities: EntityFiles, outputFile: string): Promise<number> {
    await this.database();
    const sql = sqlTemplate.split(entitiesPlaceholder).join(await this.entityRelation(entities));
    const failed = (error: unknown) => this.unreachable(error) ?? new ValidationError(`building the training set failed: ${firstLine(error)}`, { reason: 'query_failed' });
    if (this.access.mode === 'local-files') {
      // The embedded engine writes the file itself: no copy of the result through this process.
      await this.client
        .command({ query: `INSERT INTO FUNCTION file(${sqlString(outputFile)}, 'Parquet') ${sql}`, clickhouse_settings: { ...trainingSetSettings, engine_file_truncate_on_insert: 1 } })
        .catch((error: unknown) => Promise.reject(failed(error)));
    } else {
      // A server cannot write to this machine: the Parquet streams back over the client. The
      // server holds the result until the query ends (`wait_end_of_query`), so a failed query is
      // an error status, never a truncated body that looks like data.
      const result = await this.client
        .exec({ query: `${sql}\nFORMAT Parquet`, clickhouse_settings: { ...trainingSetSettings, ...urlSettings, wait_end_of_query: 1 } })
        .catch((error: unknown) => Promise.reject(failed(error)));
      await pipeline(result.stream, createWriteStream(outputFile));
    }
    return parquetRowCount(outputFile);
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
