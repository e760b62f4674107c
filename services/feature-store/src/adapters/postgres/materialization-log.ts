// The materialization log: every job with its phase, row counts and outcome (feast#4440: Feast
// keeps no such history). Completing a job and publishing `MaterializationCompleted` (an event
// on the stream `materialization-<id>`, through the outbox) happen in one transaction.
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { withTransaction, type PostgresEventStore } from '@loopline/eventsourcing';
import type { MaterializationLog, MaterializationRecord, MaterializationStatus } from '../../application/ports';
import { materializationOutboxMessage } from '../kafka/contract-messages';

interface Row {
  id: string;
  view_name: string;
  view_version: number;
  source: string;
  dataset_version_id: string;
  status: MaterializationStatus;
  phase: string;
  offline_row_count: string;
  online_row_count: string;
  event_time_start: Date | null;
  event_time_end: Date | null;
  error: string | null;
  started_at: Date;
  completed_at: Date | null;
}

function recordOf(row: Row): MaterializationRecord {
  return {
    id: row.id,
    view: row.view_name,
    viewVersion: row.view_version,
    source: row.source,
    datasetVersionId: row.dataset_version_id,
    status: row.status,
    phase: row.phase,
    offlineRowCount: Number(row.offline_row_count),
    onlineRowCount: Number(row.online_row_count),
    eventTimeRange: row.event_time_start && row.event_time_end ? { startMs: row.event_time_start.getTime(), endMs: row.event_time_end.getTime() } : null,
    error: row.error,
    startedAt: row.started_at.toISOString(),
    completedAt: row.completed_at?.toISOString() ?? null,
  };
}

export class PostgresMaterializationLog implements MaterializationLog {
  constructor(
    private readonly pool: Pool,
    private readonly events: PostgresEventStore,
  ) {}

  async completed(view: string, version: number, datasetVersionId: string): Promise<MaterializationRecord | undefined> {
    const { rows } = await this.pool.query<Row>(
      `SELECT * FROM feature_store.materializations WHERE view_name = $1 AND view_version = $2 AND dataset_version_id = $3 AND status = 'completed'`,
      [view, version, datasetVersionId],
    );
    return rows[0] && recordOf(rows[0]);
  }

  async get(id: string): Promise<MaterializationRecord | undefined> {
    if (!/^[0-9a-f-]{36}$/.test(id)) return undefined;
    const { rows } = await this.pool.query<Row>('SELECT * FROM feature_store.materializations WHERE id = $1', [id]);
    return rows[0] && recordOf(rows[0]);
  }

  async list(filter: { readonly view?: string; readonly limit: number }): Promise<MaterializationRecord[]> {
    const { rows } = await this.pool.query<Row>(
      `SELECT * FROM feature_store.materializations WHERE ($1::text IS NULL OR view_name = $1) ORDER BY started_at DESC LIMIT $2`,
      [filter.view ?? null, filter.limit],
    );
    return rows.map(recordOf);
  }

  async latestCompleted(view: string, version: number): Promise<MaterializationRecord | undefined> {
    const { rows } = await this.pool.query<Row>(
      `SELECT * FROM feature_store.materializations WHERE view_name = $1 AND view_version = $2 AND status = 'completed' ORDER BY completed_at DESC LIMIT 1`,
      [view, version],
    );
    return rows[0] && recordOf(rows[0]);
  }

  async completedDatasetVersions(view: string, version: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ dataset_version_id: string }>(
      `SELECT dataset_version_id FROM feature_store.materializations WHERE view_name = $1 AND view_version = $2 AND status = 'completed' ORDER BY completed_at, dataset_version_id`,
      [view, version],
    );
    return rows.map((row) => row.dataset_version_id);
  }

  async start(record: MaterializationRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO feature_store.materializations (id, view_name, view_version, source, dataset_version_id, status, phase, started_at)
       VALUES ($1, $2, $3, $4, $5, 'running', $6, $7)`,
      [record.id, record.view, record.viewVersion, record.source, record.datasetVersionId, record.phase, record.startedAt],
    );
  }

  async progress(id: string, phase: string, counts: { readonly offlineRowCount?: number; readonly onlineRowCount?: number }): Promise<void> {
    await this.pool.query(
      `UPDATE feature_store.materializations SET phase = $2, offline_row_count = coalesce($3, offline_row_count), online_row_count = coalesce($4, online_row_count) WHERE id = $1`,
      [id, phase, counts.offlineRowCount ?? null, counts.onlineRowCount ?? null],
    );
  }

  async complete(record: MaterializationRecord): Promise<void> {
    await withTransaction(this.pool, async (tx) => {
      await tx.query(
        `UPDATE feature_store.materializations
            SET status = 'completed', phase = 'completed', offline_row_count = $2, online_row_count = $3,
                event_time_start = $4, event_time_end = $5, completed_at = $6
          WHERE id = $1`,
        [
          record.id,
          record.offlineRowCount,
          record.onlineRowCount,
          record.eventTimeRange ? new Date(record.eventTimeRange.startMs) : null,
          record.eventTimeRange ? new Date(record.eventTimeRange.endMs) : null,
          record.completedAt,
        ],
      );
      const eventId = randomUUID();
      const event = { type: 'MaterializationCompleted', data: record, eventId, metadata: { time: record.completedAt ?? record.startedAt, actor: 'service:feature-store', correlationId: record.id } };
      await this.events.appendToStream(`materialization-${record.id}`, [event], {
        expectedVersion: 'no_stream',
        transaction: tx,
        outbox: [materializationOutboxMessage(record, eventId)],
      });
    });
  }

  async fail(id: string, error: string, at: Date): Promise<void> {
    await this.pool.query(`UPDATE feature_store.materializations SET status = 'failed', phase = 'failed', error = $2, completed_at = $3 WHERE id = $1`, [id, error.slice(0, 4_000), at]);
  }

  async exclusively<T>(view: string, version: number, datasetVersionId: string, work: () => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const lockKey = `loopline.feature-store.materialize:${view}@${version}:${datasetVersionId}`;
    try {
      await client.query('SELECT pg_advisory_lock(hashtext($1))', [lockKey]);
      try {
        return await work();
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]);
      }
    } finally {
      client.release();
    }
  }
}
