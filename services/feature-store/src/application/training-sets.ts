// Training sets: labelled entity rows (a dataset version) joined point-in-time with features,
// written as Parquet into the artifact store under its SHA-256, with the recipe that rebuilds it
// bit for bit (view versions, dataset versions, push horizons, the query, the engine version).
import { IntegrityError, NotFoundError, ValidationError } from '@loopline/errors';
import { viewVersion, type AppliedFeatureView } from '../domain/definitions/catalog';
import { trainingSetSql, type JoinedView } from '../adapters/clickhouse/training-set-sql';
import type { DatasetFiles } from './dataset-files';
import { joinKeysOf, type DefinitionsApplication } from './definitions';
import { resolveRequest } from './online-features';
import type { Artifacts, Clock, DatasetFile, EntityFiles, EntitySelector, MaterializationLog, OfflineStore, TrainingSetRecipe, TrainingSetRecord, TrainingSetStore } from './ports';

/**
 * Which dataset version(s) of the entity source hold the labelled rows: a version id, `latest`
 * (ingestion's latest accepted version, resolved when the set is built) or `all` (every accepted
 * version whose event-time range meets `[start, end)`, read oldest first: retraining on "the last
 * N weeks" spans several micro-batched versions).
 */
export const entityVersionSelectors = ['latest', 'all'] as const;

export interface TrainingSetRequest {
  readonly entities: { readonly source: string; readonly versionId: string; readonly eventTimeColumn?: string };
  readonly featureService?: string;
  readonly features?: readonly string[];
  /** Only entity rows with event time in [start, end). */
  readonly start?: string;
  readonly end?: string;
  /**
   * Dataset version(s) to join, keyed by feature view name, or by source name (every view of the
   * request reading that source); a view's own key wins. By default a view joins the version last
   * materialized into it, or every version materialized into it when `entities.versionId` is `all`.
   */
  readonly datasetVersions?: Readonly<Record<string, string | readonly string[]>>;
}

/** The dataset versions and feature-view versions a training set was built from. */
export interface TrainingSetLineage {
  readonly datasetVersionIds: readonly string[];
  readonly featureViews: readonly { readonly view: string; readonly version: number }[];
}

export function lineageOf(recipe: TrainingSetRecipe): TrainingSetLineage {
  const entityVersions = recipe.entities.versions?.map((version) => version.versionId) ?? [recipe.entities.versionId];
  const viewVersions = recipe.views.flatMap((view) => view.datasetVersionIds ?? (view.datasetVersionId === null ? [] : [view.datasetVersionId]));
  return { datasetVersionIds: [...new Set([...entityVersions, ...viewVersions])], featureViews: recipe.views.map((view) => ({ view: view.view, version: view.version })) };
}

const maxEntityVersions = 1_000;

export class TrainingSets {
  constructor(
    private readonly deps: {
      readonly definitions: DefinitionsApplication;
      readonly datasets: DatasetFiles;
      readonly offline: OfflineStore;
      readonly log: MaterializationLog;
      readonly store: TrainingSetStore;
      readonly artifacts: Artifacts;
      readonly clock: Clock;
    },
  ) {}

  /** @param log called with a line at each step of the build. */
  async create(request: TrainingSetRequest, log: (line: string) => void = () => undefined): Promise<TrainingSetRecord> {
    if (request.featureService !== undefined && request.features !== undefined) {
      throw new ValidationError('give featureService or features, not both', { field: 'features' });
    }
    const catalog = await this.deps.definitions.catalog();
    const resolved = resolveRequest(catalog, { featureService: request.featureService, features: request.features, entities: {} });
    const startMs = timeOf(request.start, 'start');
    const endMs = timeOf(request.end, 'end');
    if (startMs !== null && endMs !== null && startMs >= endMs) throw new ValidationError('start must be before end', { field: 'start' });
    const entities = await this.entityFiles(request.entities, startMs, endMs);
    log(`entity rows: ${entities.files.length} dataset version(s) of ${request.entities.source} (${entities.files.map((file) => file.info.versionId.slice(0, 12)).join(', ')})`);
    const columns = entities.columns;
    const eventTimeColumn = request.entities.eventTimeColumn ?? entities.files[0]!.info.eventTimeColumn;
    if (!eventTimeColumn) throw new ValidationError('the entity dataset declares no event-time column: pass entities.eventTimeColumn', { field: 'entities.eventTimeColumn' });
    if (!columns.includes(eventTimeColumn)) throw new ValidationError(`the entity dataset has no column "${eventTimeColumn}" (it has: ${columns.join(', ')})`, { field: 'entities.eventTimeColumn' });

    const requestedViews = resolved.views.map((resolvedView) => viewVersion(catalog, resolvedView.name, resolvedView.version)!);
    const pins = pinnedVersions(request.datasetVersions, requestedViews);
    const joined: JoinedView[] = [];
    const views: TrainingSetRecipe['views'][number][] = [];
    const features: TrainingSetRecipe['features'][number][] = [];
    for (const [viewIndex, view] of requestedViews.entries()) {
      const joinKeys = joinKeysOf(catalog, view);
      const absent = joinKeys.filter((key) => !columns.includes(key));
      if (absent.length > 0) throw new ValidationError(`the entity dataset lacks join key(s) ${absent.join(', ')} of feature view "${view.name}"`, { view: view.name, missing: absent });
      const pinned = pins.get(view.name);
      let datasetVersionIds: readonly string[];
      if (pinned) {
        for (const datasetVersionId of pinned) {
          if (!(await this.deps.offline.hasPartition(view, datasetVersionId))) {
            throw new ValidationError(`feature view "${view.name}" v${view.version} has no materialized rows of dataset version ${datasetVersionId}`, { view: view.name, datasetVersionId });
          }
        }
        datasetVersionIds = pinned;
      } else if (entities.selector === 'all') {
        datasetVersionIds = [...(await this.deps.log.completedDatasetVersions(view.name, view.version))].reverse();
      } else {
        const last = (await this.deps.log.latestCompleted(view.name, view.version))?.datasetVersionId;
        datasetVersionIds = last === undefined ? [] : [last];
      }
      const datasetVersionId = datasetVersionIds[0] ?? null;
      const pushHorizon = await this.deps.offline.pushHorizon(view);
      if (datasetVersionId === null && pushHorizon === 0) {
        throw new ValidationError(`feature view "${view.name}" v${view.version} has never been materialized: materialize it first`, { view: view.name, version: view.version });
      }
      const viewFeatures = resolved.features.filter((feature) => feature.view === viewIndex).map((feature) => ({ feature: feature.feature, column: `${view.name}__${feature.feature}` }));
      for (const feature of viewFeatures) {
        if (columns.includes(feature.column)) throw new ValidationError(`the entity dataset already has a column "${feature.column}"`, { column: feature.column });
        features.push({ view: view.name, version: view.version, feature: feature.feature, column: feature.column });
      }
      const several = datasetVersionIds.length > 1 ? { datasetVersionIds } : {};
      joined.push({ shape: { view, joinKeys }, datasetVersionId, ...several, pushHorizon, ttlSeconds: view.definition.ttlSeconds, features: viewFeatures });
      views.push({ view: view.name, version: view.version, datasetVersionId, ...several, pushHorizon, ttlSeconds: view.definition.ttlSeconds });
    }
    for (const view of views) log(`joining ${view.view}@v${view.version} over ${view.datasetVersionIds?.length ?? (view.datasetVersionId === null ? 0 : 1)} dataset version(s) and pushed rows up to ${view.pushHorizon}`);
    const query = trainingSetSql({ entityColumns: columns, eventTimeColumn, startMs, endMs, views: joined });
    const newest = entities.files.at(-1)!.info;
    const recipe: TrainingSetRecipe = {
      entities: {
        source: request.entities.source,
        versionId: newest.versionId,
        sha256: newest.sha256,
        eventTimeColumn,
        start: startMs === null ? null : new Date(startMs).toISOString(),
        end: endMs === null ? null : new Date(endMs).toISOString(),
        selector: entities.selector,
        versions: entities.files.map((file) => ({ versionId: file.info.versionId, sha256: file.info.sha256 })),
        ...(entities.files.length > 1 ? { columns } : {}),
      },
      features,
      views,
      featureService: request.featureService ?? null,
      query,
      engine: await this.deps.offline.engineVersion(),
    };
    const { rowCount, artifact } = await this.build(recipe, { files: entities.files, columns });
    return this.deps.store.save({ id: artifact.sha256, rowCount, recipe, artifact, createdAt: this.deps.clock.now().toISOString() });
  }

  /** The entity rows' dataset version(s), downloaded, with the columns read from them. */
  private async entityFiles(
    entities: TrainingSetRequest['entities'],
    startMs: number | null,
    endMs: number | null,
  ): Promise<{ readonly selector: EntitySelector; readonly files: DatasetFile[]; readonly columns: string[] }> {
    const { source, versionId } = entities;
    let selector: EntitySelector = 'version';
    let versionIds: string[];
    if (versionId === 'latest') {
      selector = 'latest';
      versionIds = [await this.deps.datasets.latestVersionId(source)];
    } else if (versionId === 'all') {
      selector = 'all';
      const inRange = (await this.deps.datasets.list(source)).filter(
        (version) => version.eventTimeRange === null || ((startMs === null || version.eventTimeRange.endMs >= startMs) && (endMs === null || version.eventTimeRange.startMs < endMs)),
      );
      if (inRange.length === 0) {
        const range = `[${startMs === null ? '-∞' : new Date(startMs).toISOString()}, ${endMs === null ? '∞' : new Date(endMs).toISOString()})`;
        throw new ValidationError(`source "${source}" has no accepted dataset version with rows in ${range}`, { field: 'entities.versionId', source });
      }
      if (inRange.length > maxEntityVersions) {
        throw new ValidationError(`source "${source}" has ${inRange.length} dataset versions in range; at most ${maxEntityVersions} per training set: narrow start/end`, { field: 'entities.versionId' });
      }
      versionIds = inRange.map((version) => version.versionId);
    } else {
      versionIds = [versionId];
    }
    const files: DatasetFile[] = [];
    for (const id of versionIds) files.push(await this.deps.datasets.fetch(source, id));
    return { selector, files, columns: await this.commonColumns(files) };
  }

  /** The columns every dataset version has, in the first one's order. */
  private async commonColumns(datasets: readonly DatasetFile[]): Promise<string[]> {
    let columns: string[] | undefined;
    for (const dataset of datasets) {
      const names = (await this.deps.offline.columnsOf(dataset)).map((column) => column.name);
      columns = columns === undefined ? names : columns.filter((name) => names.includes(name));
    }
    return columns ?? [];
  }

  async get(id: string): Promise<TrainingSetRecord> {
    const record = await this.deps.store.get(id);
    if (!record) throw new NotFoundError(`unknown training set "${id}"`, { id });
    return record;
  }

  async data(id: string) {
    const record = await this.get(id);
    return { record, stream: await this.deps.artifacts.read(record.artifact) };
  }

  /** Runs the recorded recipe again and says whether the bytes are identical. */
  async rebuild(id: string): Promise<{ readonly id: string; readonly rebuiltSha256: string; readonly identical: boolean }> {
    const record = await this.get(id);
    const { entities } = record.recipe;
    const versions = entities.versions ?? [{ versionId: entities.versionId, sha256: entities.sha256 }];
    const files: DatasetFile[] = [];
    for (const version of versions) {
      const file = await this.deps.datasets.fetch(entities.source, version.versionId);
      if (file.info.sha256 !== version.sha256) {
        throw new IntegrityError(`dataset version ${entities.source}/${version.versionId} now has SHA-256 ${file.info.sha256}, but the recipe recorded ${version.sha256}`, {
          versionId: version.versionId,
        });
      }
      files.push(file);
    }
    const { artifact } = await this.build(record.recipe, { files, columns: entities.columns ?? [] });
    return { id, rebuiltSha256: artifact.sha256, identical: artifact.sha256 === id };
  }

  private async build(recipe: TrainingSetRecipe, entities: EntityFiles) {
    const output = await this.deps.artifacts.temporaryPath();
    try {
      const rowCount = await this.deps.offline.writeTrainingSet(recipe.query, entities, output);
      return { rowCount, artifact: await this.deps.artifacts.storeFile(output) };
    } finally {
      await this.deps.artifacts.discard(output);
    }
  }
}

function timeOf(text: string | undefined, field: string): number | null {
  if (text === undefined) return null;
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) throw new ValidationError(`${field} must be an RFC 3339 time`, { field });
  return ms;
}

/**
 * The dataset versions `datasetVersions` pins per view: a key naming a view of the request pins
 * that view; a key naming a source pins every view of the request reading it (unless the view has
 * its own key). A key that matches neither is refused, so a typo never silently joins other data.
 */
export function pinnedVersions(pins: TrainingSetRequest['datasetVersions'], views: readonly AppliedFeatureView[]): Map<string, readonly string[]> {
  const result = new Map<string, readonly string[]>();
  if (!pins) return result;
  const listOf = (key: string): readonly string[] => {
    const value = pins[key];
    const list = typeof value === 'string' ? [value] : value ?? [];
    if (list.length === 0 || list.some((id) => typeof id !== 'string' || id === '')) {
      throw new ValidationError(`datasetVersions.${key} must be a dataset version id or a non-empty list of them`, { field: `datasetVersions.${key}` });
    }
    return [...new Set(list)];
  };
  for (const key of Object.keys(pins)) {
    const byName = views.filter((view) => view.name === key);
    const bySource = views.filter((view) => view.definition.source === key);
    if (byName.length === 0 && bySource.length === 0) {
      throw new ValidationError(`datasetVersions.${key}: no feature view of the request is named "${key}" or reads a source named so (views: ${views.map((view) => view.name).join(', ')})`, {
        field: `datasetVersions.${key}`,
      });
    }
  }
  for (const view of views) {
    if (Object.prototype.hasOwnProperty.call(pins, view.name)) result.set(view.name, listOf(view.name));
    else if (Object.prototype.hasOwnProperty.call(pins, view.definition.source)) result.set(view.name, listOf(view.definition.source));
  }
  return result;
}
