// The training service's Postgres side (schema `training`): the event store (runs and
// experiments), the run-summaries and experiments projections, and the inbox of task commands.
// Migrated lazily and retried, so the service boots (and reports not ready) while the database
// is unreachable.
import type { Pool } from 'pg';
import { Inbox, PostgresEventStore, ProjectionRunner } from '@loopline/eventsourcing';
import { UnavailableError } from '@loopline/errors';
import type { Logger } from '@loopline/telemetry';
import type { Experiment } from '../../domain/experiment/experiment';
import type { TrainingEventStore } from '../../application/ports';
import type { TrackingStorage } from '../../application/tracking';
import { experimentsProjection, runSummariesProjection, type RunSummary } from '../../projections/run-summaries.projection';

export const trainingSchema = 'training';

export class PostgresTrainingStorage implements TrackingStorage {
  readonly store: PostgresEventStore | undefined;
  readonly inbox = new Inbox({ schema: trainingSchema });
  private readonly runs: ProjectionRunner<RunSummary> | undefined;
  private readonly experimentDocs: ProjectionRunner<Experiment> | undefined;
  private migration: Promise<void> | undefined;
  private stopped = false;

  constructor(
    readonly pool: Pool | undefined,
    private readonly logger: Logger,
  ) {
    if (!pool) return;
    this.store = new PostgresEventStore({ pool, schema: trainingSchema });
    const onError = (error: unknown) => this.logger.warn({ err: error }, 'training projection failed; retrying');
    this.runs = new ProjectionRunner({ pool, store: this.store, projection: runSummariesProjection, pollIntervalMs: 50, onError });
    this.experimentDocs = new ProjectionRunner({ pool, store: this.store, projection: experimentsProjection, pollIntervalMs: 100, onError });
  }

  ready(): Promise<void> {
    if (!this.pool || !this.store || !this.runs || !this.experimentDocs) {
      return Promise.reject(new UnavailableError('the training database is not configured (LOOPLINE_POSTGRES_URL)'));
    }
    if (this.stopped) return Promise.reject(new UnavailableError('the training service is shutting down'));
    const { store, runs, experimentDocs } = this;
    this.migration ??= (async () => {
      await store.migrate();
      await runs.migrate();
      await experimentDocs.migrate();
      // Caught up before the background loops start (no two writers on one checkpoint), so the
      // run summaries are complete when start-up looks for interrupted jobs.
      await runs.catchUp();
      await experimentDocs.catchUp();
      if (!this.stopped) {
        runs.start();
        experimentDocs.start();
      }
    })().catch((error: unknown) => {
      this.migration = undefined;
      throw new UnavailableError(`the training database is unavailable: ${error instanceof Error ? error.message : String(error)}`);
    });
    return this.migration;
  }

  async events(): Promise<TrainingEventStore> {
    await this.ready();
    return this.store!;
  }

  async runSummaries(filter: { readonly experimentName?: string; readonly parentRunId?: string; readonly status?: string }): Promise<readonly RunSummary[]> {
    await this.ready();
    const documents = [...(await this.runs!.readDocuments()).values()];
    return documents
      .filter(
        (run) =>
          (filter.experimentName === undefined || run.experimentName === filter.experimentName) &&
          (filter.parentRunId === undefined || run.parentRunId === filter.parentRunId) &&
          (filter.status === undefined || run.status === filter.status),
      )
      .sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : a.runId.localeCompare(b.runId)));
  }

  async experiments(): Promise<readonly Experiment[]> {
    await this.ready();
    return [...(await this.experimentDocs!.readDocuments()).values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Applies pending events to the projections now (startup recovery, tests). */
  async catchUp(): Promise<void> {
    await this.ready();
    await this.runs!.catchUp();
    await this.experimentDocs!.catchUp();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.runs?.stop();
    await this.experimentDocs?.stop();
  }
}
