// Materialization: a view version over a dataset version into the offline store (all rows, one
// atomic partition swap) and, for online views, the latest row per entity into the online store.
// Idempotent: a (view version, dataset version) pair that completed once is never redone, and a
// job interrupted half-way is redone whole (the partition swap and the guarded upsert make a redo
// write the same values).
import { NotFoundError, UnavailableError, ValidationError } from '@loopline/errors';
import { latest, viewVersion, type AppliedFeatureView, type Catalog } from '../domain/definitions/catalog';
import { hasWindows } from '../domain/definitions/windows';
import { entityKeyOf } from '../domain/online/online-values';
import type { DatasetFiles } from './dataset-files';
import type { DefinitionsApplication } from './definitions';
import type { Clock, Ids, KnownDatasetVersions, MaterializationLog, MaterializationRecord, OfflineStore, OnlineStore } from './ports';

export interface MaterializerDependencies {
  readonly definitions: DefinitionsApplication;
  readonly datasets: DatasetFiles;
  readonly known: KnownDatasetVersions;
  readonly offline: OfflineStore;
  readonly online: OnlineStore;
  readonly log: MaterializationLog;
  readonly clock: Clock;
  readonly ids: Ids;
  /** Called when a view version's stored values changed (the online cache drops them). */
  readonly onMaterialized: (view: string, version: number) => void;
  readonly onProgress?: (
    record: Pick<MaterializationRecord, 'id' | 'view' | 'viewVersion' | 'datasetVersionId' | 'phase'> & {
      readonly rows?: number;
      /** From the offline phase on: the earlier dataset versions whose rows fed the windows. */
      readonly windowDatasetVersionIds?: readonly string[];
    },
  ) => void;
}

/**
 * The lock's dataset version for "every dataset version of the view version" (ingestion's version
 * ids are never `*`).
 */
const everyDatasetVersion = '*';

export interface MaterializeRequest {
  readonly view: string;
  readonly version?: number;
  readonly datasetVersionId?: string;
}

export class Materializer {
  constructor(private readonly deps: MaterializerDependencies) {}

  /** @param observe called at each phase of the job (not when the pair was already materialized). */
  async materialize(request: MaterializeRequest, observe?: (phase: string, rows?: number) => void): Promise<MaterializationRecord> {
    const catalog = await this.deps.definitions.catalog();
    const view = viewVersion(catalog, request.view, request.version);
    if (!view) {
      throw new NotFoundError(
        request.version === undefined ? `unknown feature view "${request.view}"` : `feature view "${request.view}" has no version ${request.version}`,
        { view: request.view, version: request.version },
      );
    }
    const datasetVersionId = request.datasetVersionId ?? (await this.latestDatasetVersion(view.definition.source));
    return this.run(view, datasetVersionId, observe);
  }

  /**
   * The version a materialization without `datasetVersionId` reads: the latest accepted version
   * ingestion reports for the source now; when ingestion cannot be reached, the latest one this
   * service learned from ingestion's `DatasetVersionCreated` events.
   */
  private async latestDatasetVersion(source: string): Promise<string> {
    try {
      return await this.deps.datasets.latestVersionId(source);
    } catch (error) {
      if (!(error instanceof UnavailableError) && !(error instanceof NotFoundError)) throw error;
      const known = (await this.deps.known.latest(source))?.versionId;
      if (known) return known;
      if (error instanceof UnavailableError) throw error;
      throw new ValidationError(`source "${source}" has no dataset version yet: ingest one, or pass datasetVersionId`, { source });
    }
  }

  /**
   * Materializes a new dataset version of a source into every view that reads it: the latest
   * version of each view, and any older version a feature service still pins.
   */
  async materializeSource(source: string, datasetVersionId: string): Promise<MaterializationRecord[]> {
    const catalog = await this.deps.definitions.catalog();
    const results: MaterializationRecord[] = [];
    for (const view of viewsReading(catalog, source)) results.push(await this.run(view, datasetVersionId));
    return results;
  }

  private async run(view: AppliedFeatureView, datasetVersionId: string, observe?: (phase: string, rows?: number) => void): Promise<MaterializationRecord> {
    const done = await this.deps.log.completed(view.name, view.version, datasetVersionId);
    if (done) return done;
    // A view with windows reads the versions materialized into it before: its jobs take one lock
    // per view version (every dataset version), so each sees the one before it and the order the
    // offline store records is the order they ran in. Without windows, one lock per pair.
    const lockedVersion = hasWindows(view.definition) ? everyDatasetVersion : datasetVersionId;
    return this.deps.log.exclusively(view.name, view.version, lockedVersion, async () => {
      const again = await this.deps.log.completed(view.name, view.version, datasetVersionId);
      if (again) return again;
      const started: MaterializationRecord = {
        id: this.deps.ids.newId(),
        view: view.name,
        viewVersion: view.version,
        source: view.definition.source,
        datasetVersionId,
        status: 'running',
        phase: 'downloading',
        offlineRowCount: 0,
        onlineRowCount: 0,
        eventTimeRange: null,
        error: null,
        startedAt: this.deps.clock.now().toISOString(),
        completedAt: null,
      };
      await this.deps.log.start(started);
      const report = (phase: string, rows?: number) => {
        this.deps.onProgress?.({ ...started, phase, rows });
        observe?.(phase, rows);
      };
      try {
        report('downloading');
        const file = await this.deps.datasets.fetch(view.definition.source, datasetVersionId);
        await this.deps.log.progress(started.id, 'offline', {});
        report('offline');
        const offline = await this.deps.offline.materialize(view, datasetVersionId, file);
        await this.deps.log.progress(started.id, 'online', { offlineRowCount: offline.rowCount });
        // The versions that fed the windows go to the service log with the phase; the log's record
        // (and MaterializationCompleted, its contract) has no field for them, and the offline store
        // keeps the order they derive from.
        this.deps.onProgress?.({ ...started, phase: 'online', rows: offline.rowCount, windowDatasetVersionIds: offline.windowDatasetVersionIds });
        observe?.('online', offline.rowCount);
        let onlineRowCount = 0;
        if (view.definition.online) {
          onlineRowCount = await this.deps.offline.latestPerEntity(view, datasetVersionId, async (rows) => {
            await this.deps.online.upsert(view.name, view.version, rows.map((row) => ({ ...row, entityKey: entityKeyOf(row.keys) })), datasetVersionId);
          });
        }
        this.deps.onMaterialized(view.name, view.version);
        const completed: MaterializationRecord = {
          ...started,
          status: 'completed',
          phase: 'completed',
          offlineRowCount: offline.rowCount,
          onlineRowCount,
          eventTimeRange: offline.eventTimeRange,
          completedAt: this.deps.clock.now().toISOString(),
        };
        await this.deps.log.complete(completed);
        report('completed', offline.rowCount);
        return completed;
      } catch (error) {
        await this.deps.log.fail(started.id, error instanceof Error ? error.message : String(error), this.deps.clock.now()).catch(() => undefined);
        throw error;
      }
    });
  }
}

/** The view versions a new dataset version of `source` must be materialized into. */
export function viewsReading(catalog: Catalog, source: string): AppliedFeatureView[] {
  const wanted = new Map<string, AppliedFeatureView>();
  for (const versions of catalog.featureViews.values()) {
    const newest = latest(versions);
    if (newest && newest.definition.source === source) wanted.set(`${newest.name}@${newest.version}`, newest);
  }
  for (const versions of catalog.featureServices.values()) {
    for (const feature of latest(versions)?.resolved ?? []) {
      const pinned = viewVersion(catalog, feature.view, feature.version);
      if (pinned && pinned.definition.source === source) wanted.set(`${pinned.name}@${pinned.version}`, pinned);
    }
  }
  return [...wanted.values()].sort((a, b) => (a.name === b.name ? a.version - b.version : a.name < b.name ? -1 : 1));
}
