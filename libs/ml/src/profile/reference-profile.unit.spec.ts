import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { categoricalColumn, createDataset, numericColumn } from '../data/dataset';
import { categoricalProfile, numericProfile, referenceProfile } from './reference-profile';

describe('reference profile', () => {
  it('describes a numeric feature: counts, nulls, moments, quantiles and a histogram that holds every value', () => {
    const values = [...Array.from({ length: 100 }, (_, index) => index + 1), Number.NaN, Number.NaN];
    const profile = numericProfile(values);
    assert.deepEqual([profile.count, profile.missing, profile.min, profile.max, profile.mean], [100, 2, 1, 100, 50.5]);
    assert.equal(profile.quantiles!['0.5'], 50.5);
    assert.equal(profile.quantiles!['0.99'], 99.01);
    const { edges, counts } = profile.histogram!;
    assert.equal(edges.length, 11);
    assert.deepEqual([edges[0], edges[10]], [1, 100]);
    assert.equal(counts.reduce((sum, count) => sum + count, 0), 100);
    assert.ok(edges.every((edge, index) => index === 0 || edge > edges[index - 1]!));
  });

  it('gives a constant feature one bin of non-zero width', () => {
    const profile = numericProfile([4, 4, 4]);
    assert.deepEqual(profile.histogram, { edges: [4, 5], counts: [3] });
  });

  it('counts categories, most frequent first, the tail under __other__', () => {
    const profile = categoricalProfile(['b', 'a', 'b', null, 'c', 'b', 'a', 'd'], 2);
    assert.deepEqual(profile, { kind: 'categorical', count: 7, missing: 1, frequencies: { b: 3, a: 2, __other__: 2 } });
    assert.deepEqual(Object.keys(profile.frequencies), ['b', 'a', '__other__']);
  });

  it('profiles the named features of a dataset', () => {
    const dataset = createDataset([
      ['x', numericColumn([1, 2, 3])],
      ['city', categoricalColumn(['a', 'a', 'b'])],
      ['label', numericColumn([0, 1, 0])],
    ]);
    const profile = referenceProfile(dataset, ['x', 'city']);
    assert.deepEqual(Object.keys(profile.features), ['x', 'city']);
    assert.equal(profile.rowCount, 3);
  });
});
