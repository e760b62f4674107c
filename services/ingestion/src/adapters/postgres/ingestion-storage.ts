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

  stop(): void {
    this.stopped = true;
  }
}
