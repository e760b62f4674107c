import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '@loopline/errors';
import type { AppliedFeatureView } from '../domain/definitions/catalog';
import type { FeatureViewDefinition } from '../domain/definitions/definitions';
import type { TrainingSetRecipe } from './ports';
import { lineageOf, pinnedVersions } from './training-sets';

function view(name: string, source: string): AppliedFeatureView {
  const definition: FeatureViewDefinition = {
    name,
    entities: ['origin'],
    source,
    timestampColumn: 'date',
    ttlSeconds: null,
    online: true,
    description: '',
    features: [{ name: 'delay', expression: 'delay', type: 'double', aggregation: null, description: '' }],
  };
  return { name, version: 1, hash: name, definition, actor: 'user:a', appliedAt: '' };
}

describe('TrainingSets', () => {
  const views = [view('origin_stats', 'trips'), view('origin_profile', 'trips'), view('weather', 'weather')];

  describe('when datasetVersions pins the data', () => {
    it('pins every view reading a source named as key, and lets a view key win over its source', () => {
      const pins = pinnedVersions({ trips: 'v-trips', origin_profile: ['v-new', 'v-old', 'v-new'] }, views);
      assert.deepEqual(Object.fromEntries(pins), { origin_stats: ['v-trips'], origin_profile: ['v-new', 'v-old'] });
    });

    it('refuses a key that names neither a view of the request nor a source one reads', () => {
      assert.throws(
        () => pinnedVersions({ trps: 'v1' }, views),
        (error: unknown) => error instanceof ValidationError && /datasetVersions\.trps: no feature view of the request is named "trps"/.test(error.message),
      );
    });

    it('refuses an empty list', () => {
      assert.throws(() => pinnedVersions({ weather: [] }, views), /datasetVersions\.weather must be a dataset version id or a non-empty list/);
    });
  });

  describe('when its lineage is read', () => {
    const recipe = (entities: Partial<TrainingSetRecipe['entities']>, recipeViews: TrainingSetRecipe['views']): TrainingSetRecipe => ({
      entities: { source: 'labels', versionId: 'l2', sha256: 's', eventTimeColumn: 'date', start: null, end: null, ...entities },
      features: [],
      views: recipeViews,
      featureService: null,
      query: '',
      engine: '',
    });

    it('lists every entity version and every joined version once, and the view versions', () => {
      const lineage = lineageOf(
        recipe({ versions: [{ versionId: 'l1', sha256: 'a' }, { versionId: 'l2', sha256: 'b' }] }, [
          { view: 'origin_stats', version: 2, datasetVersionId: 't2', datasetVersionIds: ['t2', 't1'], pushHorizon: 0, ttlSeconds: null },
          { view: 'weather', version: 1, datasetVersionId: null, pushHorizon: 5, ttlSeconds: null },
        ]),
      );
      assert.deepEqual(lineage, { datasetVersionIds: ['l1', 'l2', 't2', 't1'], featureViews: [{ view: 'origin_stats', version: 2 }, { view: 'weather', version: 1 }] });
    });

    it('reads recipes recorded before selectors existed (one entity version)', () => {
      const lineage = lineageOf(recipe({}, [{ view: 'origin_stats', version: 1, datasetVersionId: 't1', pushHorizon: 0, ttlSeconds: null }]));
      assert.deepEqual(lineage.datasetVersionIds, ['l2', 't1']);
    });
  });
});
