import type { Pool } from 'pg';
import { quoteIdentifier } from './sql';
import { withTransaction } from './transaction';

/**
 * The event-sourcing tables of one schema. Every statement is idempotent (`IF NOT EXISTS`), so
 * `migrate()` runs at every service start. Constraint names are explicit because the store maps
 * unique violations by constraint name.
 *
 * - `transaction_id xid8 DEFAULT pg_current_xact_id()` stamps each event and outbox row with its
 *   writer's transaction: readers only take rows below `pg_snapshot_xmin(pg_current_snapshot())`,
 *   i.e. rows whose transaction, and every older one, has finished (docs/adr/0002).
 * - No foreign key from events to streams: both are written by the same statement, and the key
 *   check would cost a lookup per event row on the hot path.
 */
function schemaStatements(schemaName: string): string[] {
  const s = quoteIdentifier(schemaName, 'schema');
  return [
    `CREATE SCHEMA IF NOT EXISTS ${s}`,
    `CREATE TABLE IF NOT EXISTS ${s}.streams (
      stream_id   text PRIMARY KEY,
      stream_type text NOT NULL,
      version     bigint NOT NULL CHECK (version >= 0),
      created_at  timestamptz NOT NULL DEFAULT now(),
      updated_at  timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE TABLE IF NOT EXISTS ${s}.events (
      global_position bigserial PRIMARY KEY,
      stream_id       text NOT NULL,
      stream_position bigint NOT NULL CHECK (stream_position >= 1),
      event_id        uuid NOT NULL CONSTRAINT events_event_id_key UNIQUE,
      event_type      text NOT NULL,
      data            jsonb NOT NULL,
      metadata        jsonb NOT NULL,
      recorded_at     timestamptz NOT NULL DEFAULT now(),
      transaction_id  xid8 NOT NULL DEFAULT pg_current_xact_id(),
      CONSTRAINT events_stream_position_key UNIQUE (stream_id, stream_position)
    )`,
    // readAll walks (transaction_id, global_position): the commit-safe order.
    `CREATE INDEX IF NOT EXISTS events_transaction_order ON ${s}.events (transaction_id, global_position)`,
    `CREATE TABLE IF NOT EXISTS ${s}.outbox (
      position       bigserial PRIMARY KEY,
      event_id       uuid NOT NULL,
      topic          text NOT NULL,
      key            text,
      value          bytea,
      headers        jsonb NOT NULL DEFAULT '{}',
      transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
      created_at     timestamptz NOT NULL DEFAULT now(),
      published_at   timestamptz,
      attempts       integer NOT NULL DEFAULT 0,
      last_error     text,
      dead           boolean NOT NULL DEFAULT false
    )`,
    // The relay's scan: only pending rows, in position order; published rows drop out of the index.
    `CREATE INDEX IF NOT EXISTS outbox_pending ON ${s}.outbox (position) WHERE published_at IS NULL AND NOT dead`,
    // event_id is text: a consumer may dedupe messages from outside Loopline (any CloudEvents id).
    `CREATE TABLE IF NOT EXISTS ${s}.inbox (
      consumer_group text NOT NULL,
      event_id       text NOT NULL,
      processed_at   timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (consumer_group, event_id)
    )`,
    `CREATE TABLE IF NOT EXISTS ${s}.projection_checkpoints (
      name               text PRIMARY KEY,
      position           bigint NOT NULL DEFAULT 0,
      projection_version integer NOT NULL,
      updated_at         timestamptz NOT NULL DEFAULT now()
    )`,
  ];
}

/**
 * Creates the schema's tables if missing. Serialised by an advisory lock so that replicas
 * starting together do not race on `CREATE ... IF NOT EXISTS` (which can still fail with a
 * duplicate catalog row when two sessions create the same table at once).
 */
export async function migrateEventSourcingSchema(pool: Pool, schemaName: string): Promise<void> {
  const statements = schemaStatements(schemaName);
  await withTransaction(pool, async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`loopline.eventsourcing.migrate:${schemaName}`]);
    for (const statement of statements) await tx.query(statement);
  });
}
