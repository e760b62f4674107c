// The registry's Postgres side: the event store in schema `registry` and the model-summaries
// projection. The schema is migrated lazily and retried, so the service boots (and reports
// itself not ready through the host's Postgres check) while the database is unreachable, and
// starts working as soon as it answers.
import type { Pool } from 'pg';
import { PostgresEventStore, ProjectionRunner } from '@loopline/eventsourcing';
import type { Logger } from '@loopline/telemetry';
import { UnavailableError } from '@loopline/errors';
import type { RegistryEventStore } from '../../application/ports';
import type { RegistryStorage } from '../../application/registry-application';
import { modelSummariesProjection, type ModelSummary } from '../../projections/model-summaries.projection';

export const registrySchema = 'registry';

export class PostgresRegistryStorage implements RegistryStorage {
  readonly store: PostgresEventStore | undefined;
  private readonly summaries: ProjectionRunner<ModelSummary> | undefined;
  private migration: Promise<void> | undefined;
  private stopped = false;

  constructor(
    readonly pool: Pool | undefined,
    private readonly logger: Logger,
    options: { readonly projectionPollMs?: number } = {},
  ) {
    if (!pool) return;
    this.store = new PostgresEventStore({ pool, schema: registrySchema });
    this.summaries = new ProjectionRunner({
      pool,
      store: this.store,
      projection: modelSummariesProjection,
      pollIntervalMs: options.projectionPollMs ?? 50,
      onError: (error) => this.logger.warn({ err: error }, 'model summaries projection failed; retrying'),
    });
  }

  /** Migrates once (retrying after a failure on the next call) and starts the projection. */
  ready(): Promise<void> {
    if (!this.pool || !this.store || !this.summaries) {
      return Promise.reject(new UnavailableError('the registry database is not configured (LOOPLINE_POSTGRES_URL)'));
    }
    if (this.stopped) return Promise.reject(new UnavailableError('the registry is shutting down'));
    const store = this.store;
    const summaries = this.summaries;
    this.migration ??= (async () => {
      await store.migrate();
      await summaries.migrate();
      if (!this.stopped) summaries.start();
    })().catch((error: unknown) => {
      this.migration = undefined;
      throw new UnavailableError(`the registry database is unavailable: ${error instanceof Error ? error.message : String(error)}`);
    });
    return this.migration;
  }

  async events(): Promise<RegistryEventStore> {
    await this.ready();
    return this.store!;
  }

  async modelSummaries(): Promise<readonly ModelSummary[]> {
    await this.ready();
    return [...(await this.summaries!.readDocuments()).values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Applies pending events to the summaries now (tests, tools). */
  async catchUpSummaries(): Promise<void> {
    await this.ready();
    await this.summaries!.catchUp();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.summaries?.stop();
  }
}
