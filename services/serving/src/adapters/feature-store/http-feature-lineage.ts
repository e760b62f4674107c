import { IllegalStateError, UnavailableError } from '@loopline/errors';
import { z } from 'zod';
import type { FeatureLineageSource, TrainingSetFeature } from '../../application/ports';
import { featureServiceTag } from '../../application/feature-joiner';

const versionLineage = z.object({
  tags: z.record(z.string(), z.string()).default({}),
  lineage: z.object({ trainingSetId: z.string().default('') }).partial().default({}),
});

const trainingSet = z.object({
  id: z.string(),
  recipe: z.object({
    featureService: z.string().nullable().default(null),
    features: z.array(z.object({ view: z.string().min(1), version: z.coerce.number().int().positive(), feature: z.string().min(1), column: z.string().min(1) })).default([]),
  }),
});

export interface HttpFeatureLineageOptions {
  /** The registry's REST API, without a trailing slash. */
  readonly registryUrl: string;
  /** The feature store's REST API, without a trailing slash. */
  readonly featureStoreUrl: string;
  readonly timeoutMs?: number;
}

/**
 * A model version's feature lineage over REST: the registry's `GET /v1/models/{name}/versions/{v}`
 * (its tags and `lineage.trainingSetId`) and the feature store's `GET /v1/training-sets/{id}` (the
 * recipe's features with their view versions and columns, and its feature service).
 */
export class HttpFeatureLineage implements FeatureLineageSource {
  constructor(private readonly options: HttpFeatureLineageOptions) {}

  async versionLineage(modelName: string, version: number): Promise<{ featureServiceTag: string; trainingSetId: string }> {
    const body = await this.getJson('the registry', this.options.registryUrl, `/v1/models/${encodeURIComponent(modelName)}/versions/${version}`, `model '${modelName}' version ${version}`);
    const parsed = versionLineage.parse(body);
    return { featureServiceTag: parsed.tags[featureServiceTag] ?? '', trainingSetId: parsed.lineage.trainingSetId ?? '' };
  }

  async trainingSetFeatures(trainingSetId: string): Promise<{ featureService: string | null; features: TrainingSetFeature[] }> {
    const body = await this.getJson('the feature store', this.options.featureStoreUrl, `/v1/training-sets/${encodeURIComponent(trainingSetId)}`, `training set ${trainingSetId}`);
    const parsed = trainingSet.parse(body);
    return { featureService: parsed.recipe.featureService, features: parsed.recipe.features };
  }

  private async getJson(who: string, baseUrl: string, path: string, what: string): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${baseUrl}${path}`, { signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000) });
    } catch (error) {
      throw new UnavailableError(`${who} (${baseUrl}) cannot be reached to read ${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
    // The version is served, so its record exists: a 404 here is a lineage pointing nowhere.
    if (response.status === 404) throw new IllegalStateError(`${who} has no ${what}, so the model's features cannot be found from its lineage: name them with "featureService"`, { lineage: what });
    if (!response.ok) throw new UnavailableError(`${who} answered ${response.status} reading ${what}: ${(await response.text().catch(() => '')).slice(0, 300)}`);
    return response.json();
  }
}
