// The ingestion service's Postgres side: its event store (with outbox) in schema `ingestion`. The
// schema is migrated lazily and retried, so the service boots (and reports itself not ready
// through the host's Postgres check) while the database is unreachable, and starts working as
// soon as it answers.
import type { Pool } from 'pg';
import { PostgresEventStore } from '@loopline/eventsourcing';
import { UnavailableError } from '@loopline/errors';
import type { IngestionEventStore } from '../../application/ports';

export const ingestionSchema = 'ingestion';

export class IngestionStorage {
  readonly store: PostgresEventStore | undefined;
  private migration: Promise<void> | undefined;
  private stopped = false;

  constructor(readonly pool: Pool | undefined) {
    if (pool) this.store = new PostgresEventStore({ pool, schema: ingestionSchema });
  }

  /** Migrates once (retrying after a failure on the next call). */
  ready(): Promise<void> {
    if (!this.store) return Promise.reject(new UnavailableError('the ingestion database is not configured (LOOPLINE_POSTGRES_URL)'));
    if (this.stopped) return Promise.reject(new UnavailableError('the ingestion service is shutting down'));
    const store = this.store;
    this.migration ??= store.migrate().catch((error: unknown) => {
      this.migration = undefined;
      throw new UnavailableError(`the ingestion database is unavailable: ${error instanceof Error ? error.message : String(error)}`);
    });
    return this.migration;
  }

  async events(): Promise<IngestionEventStore> {
    await this.ready();
    return this.store!;
  }

  /** The sources holding a dataset version, the one that recorded it last first. */
  async sourcesOfVersion(versionId: string): Promise<string[]> {
    await this.ready();
    const { rows } = await this.pool!.query<{ source: string }>(
      `SELECT data->>'source' AS source FROM ${ingestionSchema}.events
       WHERE event_type IN ('DatasetVersionCreated', 'DatasetVersionRejected') AND data->>'versionId' = $1
       GROUP BY data->>'source' ORDER BY max(global_position) DESC`,
      [versionId],
    );
    return rows.map((row) => row.source);
  }

  /** The sources whose latest stream event configures a stream (the streams to run). */
  async streamingSources(): Promise<string[]> {
    await this.ready();
    const { rows } = await this.pool!.query<{ source: string }>(
      `SELECT source FROM (
         SELECT DISTINCT ON (data->>'source') data->>'source' AS source, event_type FROM ${ingestionSchema}.events
         WHERE event_type IN ('SourceStreamConfigured', 'SourceStreamStopped')
         ORDER BY data->>'source', global_position DESC) latest
       WHERE event_type = 'SourceStreamConfigured' ORDER BY source`,
    );
    return rows.map((row) => row.source);
  }

  stop(): void {
    this.stopped = true;
  }
}
