import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeciderSpecification } from '@loopline/eventsourcing';
import { IllegalStateError } from '@loopline/errors';
import { emptyCatalog, type AppliedFeatureView, type Catalog } from './catalog';
import { definitionDecider, type ApplyDefinition } from './definition-stream';
import type { FeatureViewDefinition } from './definitions';
import { planDefinitions } from './plan';

const view = (ttlSeconds: number | null): FeatureViewDefinition => ({
  name: 'stats',
  entities: ['origin'],
  source: 'flights',
  timestampColumn: 'date',
  ttlSeconds,
  online: true,
  description: '',
  features: [{ name: 'delay', expression: 'delay', type: 'double', aggregation: null, description: '' }],
});
const entity = { name: 'origin', joinKeys: ['origin'], description: '' };
const applied = (definition: FeatureViewDefinition, version: number, hash: string): AppliedFeatureView => ({ name: definition.name, version, hash, definition, actor: 'user:a', appliedAt: '2026-01-01T00:00:00.000Z' });

describe('Plan', () => {
  it('creates what is new, leaves what is unchanged, versions what changed', () => {
    const first = planDefinitions({ entities: [entity], featureViews: [view(3600)], featureServices: [{ name: 'model', description: '', features: ['stats'] }] }, emptyCatalog);
    assert.deepEqual(first.changes.map((change) => [change.name, change.action, change.toVersion]), [['origin', 'create', 1], ['stats', 'create', 1], ['model', 'create', 1]]);
    const viewChange = first.changes[1]!;
    const catalog: Catalog = {
      entities: new Map([['origin', [{ name: 'origin', version: 1, hash: first.changes[0]!.hash, definition: entity, actor: 'user:a', appliedAt: '' }]]]),
      featureViews: new Map([['stats', [applied(view(3600), 1, viewChange.hash)]]]),
      featureServices: new Map([['model', [{ name: 'model', version: 1, hash: first.changes[2]!.hash, definition: { name: 'model', description: '', features: ['stats'] }, resolved: [{ view: 'stats', version: 1, feature: 'delay', type: 'double' }], actor: 'user:a', appliedAt: '' }]]]),
    };
    const same = planDefinitions({ entities: [entity], featureViews: [view(3600)], featureServices: [{ name: 'model', description: '', features: ['stats'] }] }, catalog);
    assert.ok(same.changes.every((change) => change.action === 'unchanged'));
    const changed = planDefinitions({ entities: [], featureViews: [view(7200)], featureServices: [{ name: 'model', description: '', features: ['stats'] }] }, catalog);
    assert.deepEqual(changed.changes.map((change) => [change.name, change.action, change.fromVersion, change.toVersion, change.differences]), [
      ['stats', 'update', 1, 2, ['ttl: 1h → 2h']],
      ['model', 'update', 1, 2, ['+ stats@v2:delay', '- stats@v1:delay']],
    ]);
    // A service that pins v1 keeps serving v1 while the view moves on.
    const pinned = planDefinitions({ entities: [], featureViews: [view(7200)], featureServices: [{ name: 'model', description: '', features: ['stats@v1'] }] }, catalog);
    const service = pinned.changes[1]!;
    assert.ok(service.kind === 'feature_service' && service.resolved.every((feature) => feature.version === 1));
  });
});

describe('DefinitionStream', () => {
  const spec = DeciderSpecification.for(definitionDecider);
  const command = (joinKeys: string[], hash: string): ApplyDefinition => ({ kind: 'entity', definition: { name: 'origin', joinKeys, description: '' }, hash, actor: 'user:a', time: '2026-01-01T00:00:00.000Z' });

  it('emits nothing for an unchanged definition', () => {
    spec.given([{ type: 'EntityApplied', data: { name: 'origin', version: 1, previousVersion: 0, hash: 'h1', definition: entity, actor: 'user:a', appliedAt: '' } }])
      .when(command(['origin'], 'h1'))
      .then([]);
  });

  it('refuses to change the join keys of an entity', () => {
    spec.given([{ type: 'EntityApplied', data: { name: 'origin', version: 1, previousVersion: 0, hash: 'h1', definition: entity, actor: 'user:a', appliedAt: '' } }])
      .when(command(['airport'], 'h2'))
      .thenThrows(IllegalStateError, (error) => assert.match(error.message, /cannot change/));
  });
});
