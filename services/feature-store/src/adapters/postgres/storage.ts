// The feature store's Postgres pool and event store, migrated lazily and retried: the service
// boots (and reports itself not ready through the host's Postgres check) while the database is
// unreachable, and starts working as soon as it answers.
import type { Pool } from 'pg';
import { PostgresEventStore } from '@loopline/eventsourcing';
import { UnavailableError } from '@loopline/errors';
import { featureStoreSchema, migrateFeatureStoreSchema } from './schema';

export class FeatureStoreStorage {
  readonly pool: Pool;
  readonly events: PostgresEventStore;
  private migration: Promise<void> | undefined;

  constructor(pool: Pool | undefined) {
    this.pool = pool ?? unconfiguredPool();
    this.events = new PostgresEventStore({ pool: this.pool, schema: featureStoreSchema });
  }

  get configured(): boolean {
    return !(this.pool as { unconfigured?: boolean }).unconfigured;
  }

  ready(): Promise<void> {
    this.migration ??= migrateFeatureStoreSchema(this.pool).catch((error: unknown) => {
      this.migration = undefined;
      if (error instanceof UnavailableError) throw error;
      throw new UnavailableError(`the feature store database is unavailable: ${error instanceof Error ? error.message : String(error)}`);
    });
    return this.migration;
  }
}

function unconfiguredPool(): Pool {
  const fail = () => Promise.reject(new UnavailableError('the feature store database is not configured (LOOPLINE_POSTGRES_URL)'));
  return { unconfigured: true, query: fail, connect: fail, end: () => Promise.resolve() } as unknown as Pool;
}
