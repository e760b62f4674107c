// The prediction log and the labels in ClickHouse: batched inserts, and every read the API and
// the monitors need, aggregated inside ClickHouse (rows are never pulled into Node to be counted).
import type { ClickHouseClient } from '@clickhouse/client';
import type { LabelRow, PredictionRow } from '../../domain/log/prediction-rows';
import { labelledRowsSql, metricsSql, versionMetrics, type LabelledQuery, type MetricsRow, type VersionMetrics } from './performance-sql';
import { migrateMonitoringTables } from './schema';
import { sqlNumber, sqlString, sqlTime, tablesOf, windowRowsSql, type RowSelection, type Tables } from './sql';

const jsonSettings = { output_format_json_quote_64bit_integers: 0, output_format_json_quote_denormals: 0 } as const;

export interface StoredPrediction {
  readonly predictionId: string;
  readonly requestId: string;
  readonly modelName: string;
  readonly modelVersion: number;
  readonly alias: string;
  readonly trafficRole: string;
  readonly entityKeys: Record<string, string>;
  readonly inputs: Record<string, unknown>;
  readonly outputs: Record<string, unknown>;
  readonly latencyMs: number;
  readonly predictedAt: string;
  readonly rowCount: number;
  readonly label: { readonly value: string; readonly eventTime: string; readonly receivedAt: string } | null;
}

export interface ModelStats {
  readonly predictions: number;
  readonly labelled: number;
  readonly versions: { readonly version: number; readonly trafficRole: string; readonly predictions: number; readonly latencyP99Ms: number | null; readonly firstAt: string; readonly lastAt: string }[];
  readonly firstAt: string | null;
  readonly lastAt: string | null;
}

export interface ModelSeen {
  readonly modelName: string;
  readonly modelVersion: number;
  readonly predictions: number;
}

export class ClickHouseLogStore {
  readonly tables: Tables;
  private migration: Promise<void> | undefined;

  constructor(
    readonly client: ClickHouseClient,
    private readonly database: string,
  ) {
    this.tables = tablesOf(database);
  }

  /** Creates the tables once (retried on the next call after a failure). */
  ready(): Promise<void> {
    this.migration ??= migrateMonitoringTables(this.client, this.database, this.tables).catch((error: unknown) => {
      this.migration = undefined;
      throw error;
    });
    return this.migration;
  }

  async insertPredictions(rows: readonly PredictionRow[], dedupToken?: string): Promise<void> {
    if (rows.length === 0) return;
    await this.ready();
    await this.client.insert({
      table: this.tables.predictions,
      values: rows as PredictionRow[],
      format: 'JSONEachRow',
      clickhouse_settings: dedupToken ? { insert_deduplication_token: dedupToken } : {},
    });
  }

  async insertLabels(rows: readonly LabelRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.ready();
    await this.client.insert({ table: this.tables.labels, values: rows as LabelRow[], format: 'JSONEachRow' });
  }

  async query<T>(sql: string): Promise<T[]> {
    await this.ready();
    const result = await this.client.query({ query: sql, format: 'JSONEachRow', clickhouse_settings: jsonSettings });
    return result.json<T>();
  }

  /** One prediction (row 0 and the number of rows of its batch) with its latest label, if any. */
  async prediction(predictionId: string, rowIndex = 0): Promise<StoredPrediction | undefined> {
    const t = this.tables;
    const id = sqlString(predictionId);
    const rows = await this.query<{
      prediction_id: string;
      request_id: string;
      model_name: string;
      model_version: number;
      alias: string;
      traffic_role: string;
      entity_key: string;
      entity_keys: Record<string, string>;
      num_inputs: Record<string, number>;
      str_inputs: Record<string, string>;
      null_inputs: string[];
      outputs: string;
      latency_ms: number;
      predicted_ms: number;
      row_count: number;
    }>(
      `SELECT prediction_id, request_id, model_name, model_version, alias, traffic_role, entity_key, entity_keys, num_inputs, str_inputs, null_inputs, outputs, latency_ms,
         toUnixTimestamp64Milli(predicted_at) AS predicted_ms,
         (SELECT count() FROM ${t.predictions} FINAL WHERE prediction_id = ${id}) AS row_count
       FROM ${t.predictions} FINAL WHERE prediction_id = ${id} AND row_index = ${sqlNumber(rowIndex)} LIMIT 1`,
    );
    const row = rows[0];
    if (!row) return undefined;
    const predictedAt = sqlTime(Number(row.predicted_ms));
    const byEntity =
      row.entity_key === ''
        ? ''
        : `UNION ALL
         SELECT value_text, event_time, received_at FROM ${t.labels} FINAL
         WHERE prediction_id = '' AND entity_key = ${sqlString(row.entity_key)} AND model_name IN ('', ${sqlString(row.model_name)})
           AND event_time >= ${predictedAt}
           AND event_time < (SELECT ifNull(minOrNull(predicted_at), toDateTime64('2200-01-01 00:00:00', 3, 'UTC')) FROM ${t.predictions} FINAL
                             WHERE model_name = ${sqlString(row.model_name)} AND model_version = ${sqlNumber(Number(row.model_version))}
                               AND entity_key = ${sqlString(row.entity_key)} AND predicted_at > ${predictedAt})`;
    const labels = await this.query<{ value_text: string; event_ms: number; received_ms: number }>(
      `SELECT value_text, toUnixTimestamp64Milli(event_time) AS event_ms, toUnixTimestamp64Milli(received_at) AS received_ms
       FROM (
         SELECT value_text, event_time, received_at FROM ${t.labels} FINAL WHERE prediction_id = ${id} AND row_index = ${sqlNumber(rowIndex)}
         ${byEntity}
       ) ORDER BY received_ms DESC LIMIT 1`,
    );
    const inputs: Record<string, unknown> = { ...row.num_inputs, ...row.str_inputs };
    for (const name of row.null_inputs) inputs[name] = null;
    const label = labels[0];
    return {
      predictionId: row.prediction_id,
      requestId: row.request_id,
      modelName: row.model_name,
      modelVersion: Number(row.model_version),
      alias: row.alias,
      trafficRole: row.traffic_role,
      entityKeys: row.entity_keys,
      inputs,
      outputs: JSON.parse(row.outputs) as Record<string, unknown>,
      latencyMs: Number(row.latency_ms),
      predictedAt: isoTime(row.predicted_ms),
      rowCount: Number(row.row_count),
      label: label ? { value: label.value_text, eventTime: isoTime(label.event_ms), receivedAt: isoTime(label.received_ms) } : null,
    };
  }

  /** Counts since a time (exact: FINAL), per version with its p99 latency. */
  async stats(modelName: string, sinceMs: number | null): Promise<ModelStats> {
    const t = this.tables;
    const since = sinceMs === null ? '' : ` AND predicted_at >= ${sqlTime(sinceMs)}`;
    const versions = await this.query<{ version: number; traffic_role: string; predictions: number; p99: unknown; first_ms: number; last_ms: number }>(
      `SELECT model_version AS version, argMax(traffic_role, predicted_at) AS traffic_role, count() AS predictions, quantileExact(0.99)(latency_ms) AS p99,
         toUnixTimestamp64Milli(min(predicted_at)) AS first_ms, toUnixTimestamp64Milli(max(predicted_at)) AS last_ms
       FROM ${t.predictions} FINAL WHERE model_name = ${sqlString(modelName)}${since}
       GROUP BY model_version ORDER BY model_version`,
    );
    const labelled = await this.query<{ labelled: number }>(
      `SELECT countIf(labelled = 1) AS labelled FROM (${labelledRowsSql(t, { modelName, modelVersion: null, window: sinceMs === null ? null : { kind: 'time', startMs: sinceMs, endMs: 8_000_000_000_000 }, targetName: null })})`,
    );
    const predictions = versions.reduce((sum, version) => sum + Number(version.predictions), 0);
    return {
      predictions,
      labelled: Number(labelled[0]?.labelled ?? 0),
      versions: versions.map((version) => ({
        version: Number(version.version),
        trafficRole: version.traffic_role,
        predictions: Number(version.predictions),
        latencyP99Ms: version.p99 === null ? null : Number(version.p99),
        firstAt: isoTime(version.first_ms),
        lastAt: isoTime(version.last_ms),
      })),
      firstAt: versions.length === 0 ? null : isoTime(Math.min(...versions.map((version) => Number(version.first_ms)))),
      lastAt: versions.length === 0 ? null : isoTime(Math.max(...versions.map((version) => Number(version.last_ms)))),
    };
  }

  /** Metrics per version over labelled rows. */
  async performance(query: LabelledQuery): Promise<VersionMetrics[]> {
    const rows = await this.query<MetricsRow>(metricsSql(labelledRowsSql(this.tables, query)));
    return rows.map(versionMetrics);
  }

  async countRows(selection: RowSelection): Promise<number> {
    const rows = await this.query<{ rows: number }>(`SELECT count() AS rows FROM (${windowRowsSql(this.tables, selection, 'prediction_id')})`);
    return Number(rows[0]?.rows ?? 0);
  }

  /** Time span of a selection's rows (ms), or undefined when empty. */
  async span(selection: RowSelection): Promise<{ readonly startMs: number; readonly endMs: number } | undefined> {
    const rows = await this.query<{ rows: number; start_ms: number; end_ms: number }>(
      `SELECT count() AS rows, toUnixTimestamp64Milli(min(predicted_at)) AS start_ms, toUnixTimestamp64Milli(max(predicted_at)) AS end_ms
       FROM (${windowRowsSql(this.tables, selection, 'predicted_at')})`,
    );
    const row = rows[0];
    if (!row || Number(row.rows) === 0) return undefined;
    return { startMs: Number(row.start_ms), endMs: Number(row.end_ms) + 1 };
  }

  /** Every model and version that predicted, with its count: what default monitors are created for. */
  async modelsSeen(): Promise<ModelSeen[]> {
    const rows = await this.query<{ model_name: string; model_version: number; predictions: number }>(
      `SELECT model_name, model_version, count() AS predictions FROM ${this.tables.predictions} GROUP BY model_name, model_version ORDER BY model_name, model_version`,
    );
    return rows.map((row) => ({ modelName: row.model_name, modelVersion: Number(row.model_version), predictions: Number(row.predictions) }));
  }

  /** Whether any label exists for a model (by name, or unscoped labels joined by id/entity). */
  async labelTargets(modelName: string): Promise<string[]> {
    const rows = await this.query<{ target_name: string }>(
      `SELECT DISTINCT target_name FROM ${this.tables.labels} WHERE model_name IN ('', ${sqlString(modelName)}) ORDER BY target_name LIMIT 20`,
    );
    return rows.map((row) => row.target_name);
  }

  /** The latest version that predicted as primary for a model (used when the registry is unreachable). */
  async latestPrimaryVersion(modelName: string): Promise<number | undefined> {
    const rows = await this.query<{ version: number }>(
      `SELECT argMax(model_version, predicted_at) AS version, count() AS n FROM ${this.tables.predictions}
       WHERE model_name = ${sqlString(modelName)} AND traffic_role IN ('primary', 'unspecified') HAVING n > 0`,
    );
    return rows[0] ? Number(rows[0].version) : undefined;
  }
}

function isoTime(ms: number | string): string {
  return new Date(Number(ms)).toISOString();
}
