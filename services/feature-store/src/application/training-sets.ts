// Training sets: labelled entity rows (a dataset version) joined point-in-time with features,
// written as Parquet into the artifact store under its SHA-256, with the recipe that rebuilds it
// bit for bit (view versions, dataset versions, push horizons, the query, the engine version).
import { NotFoundError, ValidationError } from '@loopline/errors';
import { viewVersion } from '../domain/definitions/catalog';
import { trainingSetSql, type JoinedView } from '../adapters/clickhouse/training-set-sql';
import type { DatasetFiles } from './dataset-files';
import { joinKeysOf, type DefinitionsApplication } from './definitions';
import { resolveRequest } from './online-features';
import type { Artifacts, Clock, MaterializationLog, OfflineStore, TrainingSetRecipe, TrainingSetRecord, TrainingSetStore } from './ports';

export interface TrainingSetRequest {
  readonly entities: { readonly source: string; readonly versionId: string; readonly eventTimeColumn?: string };
  readonly featureService?: string;
  readonly features?: readonly string[];
  /** Only entity rows with event time in [start, end). */
  readonly start?: string;
  readonly end?: string;
  /** Dataset version per view to join; by default the one last materialized. */
  readonly datasetVersions?: Readonly<Record<string, string>>;
}

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

  async create(request: TrainingSetRequest): Promise<TrainingSetRecord> {
    const catalog = await this.deps.definitions.catalog();
    const resolved = resolveRequest(catalog, { featureService: request.featureService, features: request.features, entities: {} });
    const startMs = timeOf(request.start, 'start');
    const endMs = timeOf(request.end, 'end');
    if (startMs !== null && endMs !== null && startMs >= endMs) throw new ValidationError('start must be before end', { field: 'start' });
    const entityFile = await this.deps.datasets.fetch(request.entities.source, request.entities.versionId);
    const columns = (await this.deps.offline.columnsOf(entityFile.path)).map((column) => column.name);
    const eventTimeColumn = request.entities.eventTimeColumn ?? entityFile.info.eventTimeColumn;
    if (!eventTimeColumn) throw new ValidationError('the entity dataset declares no event-time column: pass entities.eventTimeColumn', { field: 'entities.eventTimeColumn' });
    if (!columns.includes(eventTimeColumn)) throw new ValidationError(`the entity dataset has no column "${eventTimeColumn}" (it has: ${columns.join(', ')})`, { field: 'entities.eventTimeColumn' });

    const joined: JoinedView[] = [];
    const views: TrainingSetRecipe['views'][number][] = [];
    const features: TrainingSetRecipe['features'][number][] = [];
    for (const [viewIndex, resolvedView] of resolved.views.entries()) {
      const view = viewVersion(catalog, resolvedView.name, resolvedView.version)!;
      const joinKeys = joinKeysOf(catalog, view);
      const absent = joinKeys.filter((key) => !columns.includes(key));
      if (absent.length > 0) throw new ValidationError(`the entity dataset lacks join key(s) ${absent.join(', ')} of feature view "${view.name}"`, { view: view.name, missing: absent });
      const datasetVersionId = request.datasetVersions?.[view.name] ?? (await this.deps.log.latestCompleted(view.name, view.version))?.datasetVersionId ?? null;
      if (datasetVersionId !== null && !(await this.deps.offline.hasPartition(view, datasetVersionId))) {
        throw new ValidationError(`feature view "${view.name}" v${view.version} has no materialized rows of dataset version ${datasetVersionId}`, { view: view.name, datasetVersionId });
      }
      const pushHorizon = await this.deps.offline.pushHorizon(view);
      if (datasetVersionId === null && pushHorizon === 0) {
        throw new ValidationError(`feature view "${view.name}" v${view.version} has never been materialized: materialize it first`, { view: view.name, version: view.version });
      }
      const viewFeatures = resolved.features.filter((feature) => feature.view === viewIndex).map((feature) => ({ feature: feature.feature, column: `${view.name}__${feature.feature}` }));
      for (const feature of viewFeatures) {
        if (columns.includes(feature.column)) throw new ValidationError(`the entity dataset already has a column "${feature.column}"`, { column: feature.column });
        features.push({ view: view.name, version: view.version, feature: feature.feature, column: feature.column });
      }
      joined.push({ shape: { view, joinKeys }, datasetVersionId, pushHorizon, ttlSeconds: view.definition.ttlSeconds, features: viewFeatures });
      views.push({ view: view.name, version: view.version, datasetVersionId, pushHorizon, ttlSeconds: view.definition.ttlSeconds });
    }
    const query = trainingSetSql({ entityColumns: columns, eventTimeColumn, startMs, endMs, views: joined });
    const recipe: TrainingSetRecipe = {
      entities: {
        source: request.entities.source,
        versionId: request.entities.versionId,
        sha256: entityFile.info.sha256,
        eventTimeColumn,
        start: startMs === null ? null : new Date(startMs).toISOString(),
        end: endMs === null ? null : new Date(endMs).toISOString(),
      },
      features,
      views,
      featureService: request.featureService ?? null,
      query,
      engine: await this.deps.offline.engineVersion(),
    };
    const { rowCount, artifact } = await this.build(recipe, entityFile.path);
    return this.deps.store.save({ id: artifact.sha256, rowCount, recipe, artifact, createdAt: this.deps.clock.now().toISOString() });
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
    const entityFile = await this.deps.datasets.fetch(record.recipe.entities.source, record.recipe.entities.versionId);
    const { artifact } = await this.build(record.recipe, entityFile.path);
    return { id, rebuiltSha256: artifact.sha256, identical: artifact.sha256 === id };
  }

  private async build(recipe: TrainingSetRecipe, entityFile: string) {
    const output = await this.deps.artifacts.temporaryPath();
    try {
      const rowCount = await this.deps.offline.writeTrainingSet(recipe.query, entityFile, output);
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
