import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Catalog } from '../domain/definitions/catalog';
import type { FeatureViewDefinition } from '../domain/definitions/definitions';
import type { OnlineRow } from '../domain/online/online-values';
import { DefinitionsApplication } from './definitions';
import { OnlineFeatures } from './online-features';
import type { OfflineStore, OnlineKey, OnlineStore } from './ports';

const view: FeatureViewDefinition = {
  name: 'stats',
  entities: ['origin'],
  source: 'flights',
  timestampColumn: 'date',
  ttlSeconds: null,
  online: true,
  description: '',
  features: [{ name: 'delay', expression: 'delay', type: 'double', aggregation: null, description: '' }],
};
const catalog: Catalog = {
  entities: new Map([['origin', [{ name: 'origin', version: 1, hash: 'e', definition: { name: 'origin', joinKeys: ['origin'], description: '' }, actor: 'user:a', appliedAt: '' }]]]),
  featureViews: new Map([['stats', [{ name: 'stats', version: 1, hash: 'v', definition: view, actor: 'user:a', appliedAt: '' }]]]),
  featureServices: new Map(),
};
const clock = { now: () => new Date(1_000_000) };

class FakeOnlineStore implements OnlineStore {
  rows = new Map<string, OnlineRow>();
  reads = 0;
  duringRead: () => void = () => undefined;
  async upsert(): Promise<number> {
    return 0;
  }
  async read(keys: readonly OnlineKey[]): Promise<Map<string, OnlineRow>> {
    this.reads += 1;
    this.duringRead();
    const found = new Map<string, OnlineRow>();
    for (const key of keys) {
      const row = this.rows.get(key.entityKey);
      if (row) found.set(`${key.view}@${key.version}\u0000${key.entityKey}`, row);
    }
    return found;
  }
}

function setUp() {
  const store = new FakeOnlineStore();
  const definitions = new DefinitionsApplication({ catalog: async () => catalog, append: async () => undefined }, clock);
  const online = new OnlineFeatures(definitions, store, {} as OfflineStore, clock);
  store.rows.set('["A"]', { eventTimeMs: 1, values: { delay: 10 } });
  store.rows.set('["B"]', { eventTimeMs: 1, values: { delay: 20 } });
  return { store, online };
}

describe('OnlineFeatures', () => {
  it('reads the store once, then answers from the cache until the view is written', async () => {
    const { store, online } = setUp();
    const request = { features: ['stats:delay'], entities: { origin: ['A'] } };
    await online.get(request);
    await online.get(request);
    assert.equal(store.reads, 1);
    store.rows.set('["A"]', { eventTimeMs: 2, values: { delay: 11 } });
    online.invalidate('stats', 1);
    assert.deepEqual((await online.get(request)).results[0]!.values, [11]);
    assert.equal(store.reads, 2);
  });

  it('answers cached entities even when a write clears the cache during the read of the others', async () => {
    const { store, online } = setUp();
    await online.get({ features: ['stats:delay'], entities: { origin: ['A'] } });
    store.duringRead = () => online.invalidate('stats', 1);
    const response = await online.get({ features: ['stats:delay'], entities: { origin: ['A', 'B'] } });
    assert.deepEqual(response.results[0]!.values, [10, 20]);
    assert.deepEqual(response.results[0]!.statuses, ['PRESENT', 'PRESENT']);
    // What was read under the old generation was not cached: the next read goes to the store.
    store.duringRead = () => undefined;
    await online.get({ features: ['stats:delay'], entities: { origin: ['B'] } });
    assert.equal(store.reads, 3);
  });

  it('caches nothing while writes may go unannounced, and forgets what it had when that starts and ends', async () => {
    const { store, online } = setUp();
    const request = { features: ['stats:delay'], entities: { origin: ['A'] } };
    await online.get(request);
    online.setCoherent(false);
    store.rows.set('["A"]', { eventTimeMs: 2, values: { delay: 11 } });
    assert.deepEqual((await online.get(request)).results[0]!.values, [11]);
    assert.deepEqual((await online.get(request)).results[0]!.values, [11]);
    assert.equal(store.reads, 3, 'every lookup read the store');
    online.setCoherent(true);
    await online.get(request);
    await online.get(request);
    assert.equal(store.reads, 4, 'cached again once coherent');
  });

  it('does not cache a read that was in flight when caching resumed', async () => {
    const { store, online } = setUp();
    const request = { features: ['stats:delay'], entities: { origin: ['A'] } };
    online.setCoherent(false);
    store.duringRead = () => online.setCoherent(true);
    await online.get(request);
    store.duringRead = () => undefined;
    await online.get(request);
    assert.equal(store.reads, 2);
  });

  it('refuses a request lacking a join key of a view', async () => {
    const { online } = setUp();
    await assert.rejects(online.get({ features: ['stats:delay'], entities: { airport: ['A'] } }), /needs entity key "origin"/);
  });
});
