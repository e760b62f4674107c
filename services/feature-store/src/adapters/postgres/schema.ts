// The feature store's Postgres schema `feature_store`: the event-sourcing tables of
// @loopline/eventsourcing (events, outbox, inbox), the catalog projection of the definition
// streams, the online store, the materialization log, the dataset versions learned from
// ingestion's events, and training-set records.
import type { Pool } from 'pg';
import { migrateEventSourcingSchema, withTransaction } from '@loopline/eventsourcing';

export const featureStoreSchema = 'feature_store';

const statements = [
  `CREATE TABLE IF NOT EXISTS feature_store.catalog (
    kind        text NOT NULL,
    name        text NOT NULL,
    version     integer NOT NULL,
    hash        text NOT NULL,
    definition  jsonb NOT NULL,
    resolved    jsonb,
    actor       text NOT NULL,
    applied_at  timestamptz NOT NULL,
    PRIMARY KEY (kind, name, version)
  )`,
  // One row per (view version, entity): the latest values. Read by primary key only.
  `CREATE TABLE IF NOT EXISTS feature_store.online_features (
    view_name          text NOT NULL,
    view_version       integer NOT NULL,
    entity_key         text NOT NULL,
    event_time         timestamptz NOT NULL,
    feature_values     jsonb NOT NULL,
    dataset_version_id text NOT NULL,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (view_name, view_version, entity_key)
  )`,
  `CREATE TABLE IF NOT EXISTS feature_store.materializations (
    id                 uuid PRIMARY KEY,
    view_name          text NOT NULL,
    view_version       integer NOT NULL,
    source             text NOT NULL,
    dataset_version_id text NOT NULL,
    status             text NOT NULL,
    phase              text NOT NULL,
    offline_row_count  bigint NOT NULL DEFAULT 0,
    online_row_count   bigint NOT NULL DEFAULT 0,
    event_time_start   timestamptz,
    event_time_end     timestamptz,
    error              text,
    started_at         timestamptz NOT NULL,
    completed_at       timestamptz
  )`,
  `CREATE UNIQUE INDEX IF NOT EXISTS materializations_completed_once
     ON feature_store.materializations (view_name, view_version, dataset_version_id) WHERE status = 'completed'`,
  `CREATE INDEX IF NOT EXISTS materializations_by_view ON feature_store.materializations (view_name, started_at DESC)`,
  `CREATE TABLE IF NOT EXISTS feature_store.dataset_versions (
    source      text NOT NULL,
    version_id  text NOT NULL,
    row_count   bigint NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (source, version_id)
  )`,
  `CREATE TABLE IF NOT EXISTS feature_store.training_sets (
    id          text PRIMARY KEY,
    row_count   bigint NOT NULL,
    recipe      jsonb NOT NULL,
    artifact    jsonb NOT NULL,
    created_at  timestamptz NOT NULL
  )`,
];

export async function migrateFeatureStoreSchema(pool: Pool): Promise<void> {
  await migrateEventSourcingSchema(pool, featureStoreSchema);
  await withTransaction(pool, async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['loopline.feature-store.migrate']);
    for (const statement of statements) await tx.query(statement);
  });
}
