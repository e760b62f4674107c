// The provenance chain of a prediction or a model version, followed link by link over the
// services' public REST APIs: prediction (monitoring) → model version (registry) → training run
// (training) → training set (feature store) → dataset versions (ingestion) and feature-view
// versions (feature store) → pipeline run (orchestration) → code commit. A link that is not
// recorded is `absent` (with why); a link whose service does not answer is `unavailable` (with
// the service and its URL): neither stops the walk.
import type { ModelVersionJson } from './registry-views';
import type { TrainingRunJson } from './runs-command';
import { CliError, ServiceClient, ServiceUnavailableError, segment } from './service-client';

export type Link<T> =
  | { readonly status: 'present'; readonly value: T }
  | { readonly status: 'absent'; readonly reason: string }
  | { readonly status: 'unavailable'; readonly reason: string };

export interface PredictionJson {
  readonly predictionId: string;
  readonly requestId: string;
  readonly modelName: string;
  readonly modelVersion: number | string;
  readonly alias: string;
  readonly trafficRole: string;
  readonly entityKeys: Readonly<Record<string, string>>;
  readonly inputs: Readonly<Record<string, unknown>>;
  readonly outputs: Readonly<Record<string, unknown>>;
  readonly latencyMs: number;
  readonly predictedAt: string;
  readonly label: { readonly value: unknown; readonly eventTime: string; readonly receivedAt: string } | null;
}

export interface TrainingSetJson {
  readonly id: string;
  readonly rowCount: number;
  readonly createdAt: string;
  readonly recipe: {
    readonly entities: { readonly source: string; readonly versionId: string; readonly sha256?: string; readonly eventTimeColumn?: string };
    readonly features: readonly { readonly view: string; readonly version: number; readonly feature: string }[];
    readonly views: readonly { readonly view: string; readonly version: number; readonly datasetVersionId: string | null }[];
    readonly featureService: string | null;
  };
}

export interface FeatureViewJson {
  readonly name: string;
  readonly version: number;
  readonly hash: string;
  readonly source: string;
  readonly appliedAt: string;
  readonly actor: string;
  readonly entities: readonly string[];
  readonly features: readonly { readonly name: string }[];
}

export interface DatasetVersionJson {
  readonly source: string;
  readonly versionId: string;
  readonly status: string;
  readonly rowCount: number;
  readonly createdAt: string;
  readonly eventTimeRange?: unknown;
  readonly origin?: unknown;
  readonly actor?: string;
}

export interface PipelineRunJson {
  readonly runId: string;
  readonly pipelineName: string;
  readonly pipelineVersion: number;
  readonly status: string;
  readonly trigger: { readonly kind: string; readonly actor: string; readonly triggerName: string | null };
  readonly codeVersion: string;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly endedAt: string | null;
}

/** One dataset version the model was trained on, and what used it. */
export interface DatasetLink {
  readonly versionId: string;
  readonly source: string | null;
  /** `entity rows`, or `feature view <name> v<n>`. */
  readonly role: string;
  readonly version: Link<DatasetVersionJson>;
}

export interface FeatureViewLink {
  readonly name: string;
  readonly version: number;
  readonly view: Link<FeatureViewJson>;
}

export interface LineageChain {
  readonly prediction: Link<PredictionJson> | null;
  readonly modelVersion: Link<ModelVersionJson>;
  readonly trainingRun: Link<TrainingRunJson>;
  readonly trainingSet: Link<TrainingSetJson>;
  readonly datasetVersions: readonly DatasetLink[];
  readonly featureViews: readonly FeatureViewLink[];
  readonly pipelineRun: Link<PipelineRunJson>;
  readonly codeCommit: Link<{ readonly commit: string; readonly from: string }>;
}

export interface LineageClients {
  readonly monitoring: ServiceClient;
  readonly registry: ServiceClient;
  readonly training: ServiceClient;
  readonly featureStore: ServiceClient;
  readonly ingestion: ServiceClient;
  readonly orchestration: ServiceClient;
}

export function lineageClients(env: NodeJS.ProcessEnv): LineageClients {
  return {
    monitoring: ServiceClient.of('monitoring', env),
    registry: ServiceClient.of('registry', env),
    training: ServiceClient.of('training', env),
    featureStore: ServiceClient.of('feature-store', env),
    ingestion: ServiceClient.of('ingestion', env),
    orchestration: ServiceClient.of('orchestration', env),
  };
}

const present = <T>(value: T): Link<T> => ({ status: 'present', value });
const absent = <T>(reason: string): Link<T> => ({ status: 'absent', reason });

/** Reads one link: a 404 is `absent` (with `missing` as the reason), a silent service `unavailable`. */
async function follow<T>(client: ServiceClient, path: string, missing: string): Promise<Link<T>> {
  try {
    const found = await client.find<T>(path);
    return found === undefined ? absent(missing) : present(found);
  } catch (error) {
    if (error instanceof ServiceUnavailableError) return { status: 'unavailable', reason: error.message };
    if (error instanceof CliError) return { status: 'unavailable', reason: `${client.service}: ${error.message}` };
    throw error;
  }
}

/** The chain from a prediction id; an unknown id (or monitoring not answering) is an error. */
export async function lineageOfPrediction(clients: LineageClients, predictionId: string): Promise<LineageChain> {
  const prediction = await clients.monitoring.find<PredictionJson>(`/v1/predictions/${segment(predictionId)}`);
  if (prediction === undefined) {
    throw new CliError(`unknown prediction "${predictionId}": monitoring has no record of it (predictions arrive through Kafka, so one made a moment ago may take a few seconds to appear)`);
  }
  const modelVersion = await follow<ModelVersionJson>(
    clients.registry,
    `/v1/models/${segment(prediction.modelName)}/versions/${segment(prediction.modelVersion)}`,
    `the registry has no version ${prediction.modelVersion} of "${prediction.modelName}"`,
  );
  return { prediction: present(prediction), ...(await fromModelVersion(clients, modelVersion)) };
}

/** The chain from a model version; an unknown model or version is an error. */
export async function lineageOfModelVersion(clients: LineageClients, name: string, version: number): Promise<LineageChain> {
  const found = await clients.registry.get<ModelVersionJson>(`/v1/models/${segment(name)}/versions/${version}`);
  return { prediction: null, ...(await fromModelVersion(clients, present(found))) };
}

async function fromModelVersion(clients: LineageClients, modelVersion: Link<ModelVersionJson>): Promise<Omit<LineageChain, 'prediction'>> {
  const lineage = modelVersion.status === 'present' ? modelVersion.value.lineage : undefined;
  const unknownModel = modelVersion.status === 'present' ? '' : 'the model version is not known';

  const trainingRun: Link<TrainingRunJson> = !lineage
    ? absent(unknownModel)
    : lineage.trainingRunId
      ? await follow<TrainingRunJson>(clients.training, `/v1/runs/${segment(lineage.trainingRunId)}`, `the training service has no run ${lineage.trainingRunId}`)
      : absent('the model version records no training run (registered by hand?)');
  const run = trainingRun.status === 'present' ? trainingRun.value : undefined;

  const trainingSetId = lineage?.trainingSetId || run?.trainingData.trainingSetId || '';
  const trainingSet: Link<TrainingSetJson> = trainingSetId
    ? await follow<TrainingSetJson>(clients.featureStore, `/v1/training-sets/${segment(trainingSetId)}`, `the feature store has no training set ${trainingSetId}`)
    : absent(lineage ? 'neither the model version nor its training run records a training set' : unknownModel);
  const recipe = trainingSet.status === 'present' ? trainingSet.value.recipe : undefined;

  // Feature views: the recipe's (exact versions), else what the model version or run recorded.
  const viewRefs = recipe
    ? recipe.views.map((view) => ({ name: view.view, version: view.version }))
    : (lineage?.featureViews.length ? lineage.featureViews : (run?.trainingData.featureViews ?? [])).map((view) => ({ name: view.viewName, version: view.viewVersion }));
  const featureViews: FeatureViewLink[] = await Promise.all(
    viewRefs.map(async (ref) => ({
      ...ref,
      view: await follow<FeatureViewJson>(clients.featureStore, `/v1/feature-views/${segment(ref.name)}/versions/${ref.version}`, `the feature store has no version ${ref.version} of view "${ref.name}"`),
    })),
  );

  // Dataset versions: the training set's entity rows and each view's source version. Ingestion
  // finds a version by its source, which the recipe (entity rows) and the view (its source) give.
  const datasets: { versionId: string; source: string | null; role: string }[] = [];
  if (recipe) {
    datasets.push({ versionId: recipe.entities.versionId, source: recipe.entities.source, role: 'entity rows' });
    for (const view of recipe.views) {
      const link = featureViews.find((candidate) => candidate.name === view.view && candidate.version === view.version);
      const source = link?.view.status === 'present' ? link.view.value.source : null;
      if (view.datasetVersionId) datasets.push({ versionId: view.datasetVersionId, source, role: `feature view ${view.view} v${view.version}` });
    }
  } else {
    for (const versionId of lineage?.datasetVersionIds.length ? lineage.datasetVersionIds : (run?.trainingData.datasetVersionIds ?? [])) datasets.push({ versionId, source: null, role: 'recorded by the model version' });
  }
  const datasetVersions: DatasetLink[] = await Promise.all(
    datasets.map(async (dataset) => ({
      ...dataset,
      version:
        dataset.source === null
          ? absent<DatasetVersionJson>('its source is not known (the training set is not available), so ingestion cannot be asked')
          : await follow<DatasetVersionJson>(clients.ingestion, `/v1/sources/${segment(dataset.source)}/versions/${segment(dataset.versionId)}`, `ingestion has no version ${dataset.versionId} of "${dataset.source}"`),
    })),
  );

  const pipelineRunId = lineage?.pipelineRunId || run?.task?.pipelineRunId || '';
  const pipelineRun: Link<PipelineRunJson> = pipelineRunId
    ? await follow<PipelineRunJson>(clients.orchestration, `/v1/runs/${segment(pipelineRunId)}`, `orchestration has no run ${pipelineRunId}`)
    : absent(lineage ? 'not trained by a pipeline (neither the model version nor its training run records a pipeline run)' : unknownModel);

  const commits: [string, string][] = [
    [lineage?.codeCommit ?? '', 'the model version'],
    [run?.codeCommit ?? '', 'the training run'],
    [pipelineRun.status === 'present' ? pipelineRun.value.codeVersion : '', 'the pipeline run'],
  ];
  const commit = commits.find(([value]) => value !== '');
  const codeCommit = commit ? present({ commit: commit[0], from: commit[1] }) : absent<{ commit: string; from: string }>('no link of the chain records a code commit');

  return { modelVersion, trainingRun, trainingSet, datasetVersions, featureViews, pipelineRun, codeCommit };
}

/** Every link of the chain, for the exit code: any `unavailable` one makes the answer partial. */
export function unavailableLinks(chain: LineageChain): string[] {
  const links: Link<unknown>[] = [
    ...(chain.prediction ? [chain.prediction] : []),
    chain.modelVersion,
    chain.trainingRun,
    chain.trainingSet,
    ...chain.datasetVersions.map((dataset) => dataset.version),
    ...chain.featureViews.map((view) => view.view),
    chain.pipelineRun,
    chain.codeCommit,
  ];
  return [...new Set(links.flatMap((link) => (link.status === 'unavailable' ? [link.reason] : [])))];
}
