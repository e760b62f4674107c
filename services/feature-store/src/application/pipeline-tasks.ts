// The pipeline step kinds the feature store executes (docs/adr/0008-orchestration.md,
// "Executors"; the contract is orchestration's step-kind catalog): `materialize` and
// `build_training_set`, as functions from a task's params to the kind's outputs. Both effects are
// idempotent by themselves (a (view version, dataset version) pair is materialized once; a training
// set is content-addressed), and the Kafka adapter keeps one answer per idempotency key on top.
import { z } from 'zod';
import { ValidationError } from '@loopline/errors';
import type { Materializer } from './materialization';
import { entityVersionSelectors, lineageOf, type TrainingSets } from './training-sets';

/** Lines a task reports while it works; they become the answer's `logs_tail`. */
export type TaskLog = (line: string) => void;

const name = z.string().min(1).max(200);
const versionNumber = z.union([z.number().int().positive(), z.string().regex(/^[1-9][0-9]{0,8}$/).transform(Number)]);

const materializeParams = z
  .object({
    view: name,
    version: versionNumber.optional(),
    datasetVersionId: name.optional(),
  })
  .strict();

const buildTrainingSetParams = z
  .object({
    entities: z
      .object({
        source: name,
        versionId: name,
        eventTimeColumn: name.optional(),
      })
      .strict(),
    featureService: name.optional(),
    features: z.array(z.string().min(1).max(300)).min(1).max(5_000).optional(),
    start: z.string().min(1).optional(),
    end: z.string().min(1).optional(),
    datasetVersions: z.record(z.union([name, z.array(name).min(1).max(1_000)])).optional(),
  })
  .strict();

/** Parses a task's params, naming the first bad one as `params.<path>`. */
function parseParams<S extends z.ZodTypeAny>(kind: string, schema: S, params: unknown): z.infer<S> {
  const result = schema.safeParse(params ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = ['params', ...issue.path].join('.');
  const problem = issue.code === 'unrecognized_keys' ? `unknown input(s) ${issue.keys.join(', ')}` : issue.message;
  throw new ValidationError(`${kind}: ${path}: ${problem}`, { field: path });
}

export interface MaterializeOutputs {
  readonly materializationId: string;
  readonly viewVersion: number;
  /** Rows written to the offline store. */
  readonly rowCount: number;
  readonly onlineRowCount: number;
  readonly view: string;
  /** The source's dataset version materialized (resolved when the task did not name one). */
  readonly sourceDatasetVersionId: string;
  readonly [key: string]: unknown;
}

export interface BuildTrainingSetOutputs {
  readonly trainingSetId: string;
  readonly rowCount: number;
  /** Every dataset version read (entity rows and joined features), for lineage. */
  readonly usedDatasetVersionIds: readonly string[];
  /** Every feature-view version joined, as `view@vN`. */
  readonly usedFeatureViews: readonly string[];
  readonly [key: string]: unknown;
}

export class PipelineTasks {
  constructor(
    private readonly deps: {
      readonly materializer: Materializer;
      readonly trainingSets: TrainingSets;
    },
  ) {}

  /**
   * `materialize {view, version?, datasetVersionId?}`. Without `datasetVersionId`, the source's
   * latest accepted dataset version (as ingestion reports it when the task runs) is materialized.
   */
  async materialize(params: unknown, log: TaskLog = () => undefined): Promise<MaterializeOutputs> {
    const request = parseParams('materialize', materializeParams, params);
    log(`materializing feature view ${request.view}${request.version === undefined ? '' : `@v${request.version}`} over ${request.datasetVersionId ?? "the source's latest dataset version"}`);
    const record = await this.deps.materializer.materialize(request, (phase, rows) => log(`${phase}${rows === undefined ? '' : ` (${rows} rows)`}`));
    log(`materialization ${record.id}: ${record.offlineRowCount} offline rows, ${record.onlineRowCount} online rows, dataset version ${record.datasetVersionId}`);
    return {
      materializationId: record.id,
      viewVersion: record.viewVersion,
      rowCount: record.offlineRowCount,
      onlineRowCount: record.onlineRowCount,
      view: record.view,
      sourceDatasetVersionId: record.datasetVersionId,
    };
  }

  /**
   * `build_training_set {entities: {source, versionId, eventTimeColumn?}, featureService? | features?,
   * start?, end?, datasetVersions?}`. `entities.versionId` is a dataset version id, `latest`, or
   * `all` (every version of the source with rows in `[start, end)`).
   */
  async buildTrainingSet(params: unknown, log: TaskLog = () => undefined): Promise<BuildTrainingSetOutputs> {
    const request = parseParams('build_training_set', buildTrainingSetParams, params);
    const selector = (entityVersionSelectors as readonly string[]).includes(request.entities.versionId) ? ` (${request.entities.versionId})` : '';
    log(`building a training set on ${request.entities.source}/${request.entities.versionId}${selector} with ${request.featureService !== undefined ? `feature service ${request.featureService}` : `${request.features?.length ?? 0} feature reference(s)`}`);
    const record = await this.deps.trainingSets.create(request, log);
    const lineage = lineageOf(record.recipe);
    log(`training set ${record.id}: ${record.rowCount} rows from ${lineage.datasetVersionIds.length} dataset version(s)`);
    return {
      trainingSetId: record.id,
      rowCount: record.rowCount,
      usedDatasetVersionIds: lineage.datasetVersionIds,
      usedFeatureViews: lineage.featureViews.map((view) => `${view.view}@v${view.version}`),
    };
  }
}
