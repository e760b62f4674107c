import type { Logger } from '@loopline/telemetry';
import { bindFeatures, type Bound, type FeatureLookup, type OnlineValue } from '../domain/features/feature-binding';
import type { FeatureLineageSource, OnlineFeatureStore } from './ports';
import type { ServedVersion } from './served-version';

/** The tag of a model version that names the feature service it reads (wins over its training set's features). */
export const featureServiceTag = 'loopline.feature_service';

/** What one predict-by-entity request brings for the join. */
export interface EntityJoinRequest {
  readonly entities: Readonly<Record<string, string>>;
  readonly features: Readonly<Record<string, unknown>>;
  /** Feature service named by the request; empty or undefined: the model version's own. */
  readonly featureService?: string;
  /** Epoch ms by which the online lookup must answer. */
  readonly deadline: number;
}

export interface FeatureJoinerOptions {
  readonly store: OnlineFeatureStore;
  readonly lineage: FeatureLineageSource;
  readonly logger: Logger;
}

/**
 * Joins online features for a model version: finds which features the version reads (once per
 * version, cached: the request's feature service, else the version's `loopline.feature_service`
 * tag, else the exact features — pinned view versions — of the training set in its lineage), reads
 * them for the entity and binds them to the model's inputs.
 *
 * Reading the training set's features pinned to their view versions, rather than whatever a
 * feature service holds today, is what keeps serving on the definitions the model was trained on
 * when a view or service is re-applied later.
 */
export class FeatureJoiner {
  private readonly lookups = new Map<string, Promise<FeatureLookup>>();

  constructor(private readonly options: FeatureJoinerOptions) {}

  async join(served: ServedVersion, request: EntityJoinRequest): Promise<Bound> {
    const lookup = request.featureService ? requestedService(request.featureService) : await this.lookupOf(served.modelName, served.version);
    const online: OnlineValue[] = lookup.query === null ? [] : await this.options.store.getOnlineFeatures(lookup.query, request.entities, request.deadline);
    return bindFeatures({ specs: served.signature.inputs, lookup, online, entities: request.entities, requestFeatures: request.features });
  }

  /** The version's lookup, resolved once; a failed resolution is not cached (the next request retries). */
  private lookupOf(modelName: string, version: number): Promise<FeatureLookup> {
    const key = `${modelName}@${version}`;
    let lookup = this.lookups.get(key);
    if (!lookup) {
      lookup = this.resolve(modelName, version);
      this.lookups.set(key, lookup);
      lookup.catch(() => this.lookups.delete(key));
    }
    return lookup;
  }

  private async resolve(modelName: string, version: number): Promise<FeatureLookup> {
    const { lineage, logger } = this.options;
    const recorded = await lineage.versionLineage(modelName, version);
    let lookup: FeatureLookup;
    if (recorded.featureServiceTag !== '') {
      lookup = { query: { featureService: recorded.featureServiceTag }, columns: new Map(), origin: `tag ${featureServiceTag}=${recorded.featureServiceTag}` };
    } else if (recorded.trainingSetId !== '') {
      const trainingSet = await lineage.trainingSetFeatures(recorded.trainingSetId);
      const references = trainingSet.features.map((feature) => `${feature.view}@v${feature.version}:${feature.feature}`);
      lookup = {
        query: references.length > 0 ? { references } : null,
        columns: new Map(trainingSet.features.map((feature) => [`${feature.view}:${feature.feature}`, feature.column])),
        origin: `training set ${recorded.trainingSetId.slice(0, 12)}${trainingSet.featureService ? ` (feature service ${trainingSet.featureService})` : ''}`,
      };
    } else {
      lookup = { query: null, columns: new Map(), origin: 'none' };
    }
    logger.info({ model: modelName, version, features: lookup.query, origin: lookup.origin }, `${modelName} version ${version} reads its online features from ${lookup.origin}`);
    return lookup;
  }
}

function requestedService(featureService: string): FeatureLookup {
  return { query: { featureService }, columns: new Map(), origin: `feature service ${featureService}` };
}
