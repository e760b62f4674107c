// The monitoring tables. Exactly-once counts under at-least-once delivery: every table is a
// ReplacingMergeTree whose sorting key is the identity of a fact (prediction id + row, label
// event id, reference row), so a batch redelivered after a crash collapses into the rows already
// stored, and every read goes through FINAL (or groups by that identity), so counts are exact
// even before a merge ran.
import type { ClickHouseClient } from '@clickhouse/client';
import { sqlIdentifier, type Tables } from './sql';

export function schemaStatements(database: string, tables: Tables): string[] {
  return [
    `CREATE DATABASE IF NOT EXISTS ${sqlIdentifier(database)}`,
    `CREATE TABLE IF NOT EXISTS ${tables.predictions} (
      model_name LowCardinality(String),
      model_version UInt32,
      prediction_id String,
      row_index UInt32,
      request_id String,
      alias LowCardinality(String),
      traffic_role LowCardinality(String),
      entity_key String,
      entity_keys Map(String, String),
      num_inputs Map(String, Float64),
      str_inputs Map(String, String),
      null_inputs Array(String),
      predicted_label Nullable(String),
      predicted_score Nullable(Float64),
      predicted_value Nullable(Float64),
      outputs String,
      latency_ms Float64,
      predicted_at DateTime64(3, 'UTC'),
      ingested_at DateTime64(3, 'UTC') DEFAULT now64(3)
    ) ENGINE = ReplacingMergeTree
    PARTITION BY toYYYYMM(predicted_at)
    ORDER BY (model_name, prediction_id, row_index)`,
    `CREATE TABLE IF NOT EXISTS ${tables.labels} (
      label_id String,
      prediction_id String,
      row_index UInt32,
      model_name String,
      entity_key String,
      target_name LowCardinality(String),
      value_text String,
      value_number Nullable(Float64),
      event_time DateTime64(3, 'UTC'),
      received_at DateTime64(3, 'UTC')
    ) ENGINE = ReplacingMergeTree(received_at)
    ORDER BY label_id`,
    `CREATE TABLE IF NOT EXISTS ${tables.referenceRows} (
      model_name LowCardinality(String),
      model_version UInt32,
      row_index UInt64,
      num_inputs Map(String, Float64),
      str_inputs Map(String, String)
    ) ENGINE = ReplacingMergeTree
    ORDER BY (model_name, model_version, row_index)`,
    `CREATE TABLE IF NOT EXISTS ${tables.referenceSets} (
      model_name String,
      model_version UInt32,
      source String,
      detail String,
      row_count UInt64,
      numeric_features Array(String),
      categorical_features Array(String),
      loaded_at DateTime64(3, 'UTC')
    ) ENGINE = ReplacingMergeTree(loaded_at)
    ORDER BY (model_name, model_version)`,
  ];
}

export async function migrateMonitoringTables(client: ClickHouseClient, database: string, tables: Tables): Promise<void> {
  for (const statement of schemaStatements(database, tables)) await client.command({ query: statement });
}
