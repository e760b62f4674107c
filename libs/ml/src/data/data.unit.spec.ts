import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Prng } from '../random/prng';
import { categoricalColumn, createDataset, DatasetError, labelValues, numericColumn } from './dataset';
import { encodeFeatures, fitFeatureEncoding } from './features';
import { splitRows } from './split';

const dataset = createDataset([
  ['time', numericColumn([50, 10, 40, 20, 30, 60, 70, 80, 90, 100])],
  ['city', categoricalColumn(['a', 'a', 'b', 'b', 'b', null, 'a', 'c', 'a', 'b'])],
  ['label', numericColumn([1, 1, 0, 0, 1, 0, 1, 0, 1, 0])],
]);

describe('Prng', () => {
  it('repeats its sequence for a seed and differs between seeds', () => {
    const draw = (seed: number) => Array.from({ length: 5 }, () => new Prng(seed)).map((prng, index) => (index === 0 ? prng.nextUint32() : 0));
    assert.deepEqual(draw(42), draw(42));
    const a = new Prng(1);
    const b = new Prng(2);
    assert.notDeepEqual([a.nextUint32(), a.nextUint32()], [b.nextUint32(), b.nextUint32()]);
  });

  it('draws floats in [0, 1) with a mean near ½', () => {
    const prng = new Prng(7);
    let sum = 0;
    for (let i = 0; i < 10_000; i += 1) {
      const value = prng.nextFloat();
      assert.ok(value >= 0 && value < 1);
      sum += value;
    }
    assert.ok(Math.abs(sum / 10_000 - 0.5) < 0.02);
  });
});

describe('splitRows', () => {
  describe('when random', () => {
    it('holds out the requested share, the same rows for the same seed, each part in row order', () => {
      const first = splitRows(dataset, { kind: 'random', holdoutFraction: 0.3, seed: 5 });
      const again = splitRows(dataset, { kind: 'random', holdoutFraction: 0.3, seed: 5 });
      assert.deepEqual(first, again);
      assert.equal(first.holdout.length, 3);
      assert.deepEqual([...first.train, ...first.holdout].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      assert.deepEqual([...first.train], [...first.train].sort((a, b) => a - b));
      const other = splitRows(dataset, { kind: 'random', holdoutFraction: 0.3, seed: 6 });
      assert.notDeepEqual([...other.holdout], [...first.holdout]);
    });
  });

  describe('when by time', () => {
    it('holds out the latest rows', () => {
      const split = splitRows(dataset, { kind: 'time', timeColumn: 'time', holdoutFraction: 0.2 });
      assert.deepEqual([...split.holdout], [8, 9]);
      assert.deepEqual([...split.train], [1, 3, 4, 2, 0, 5, 6, 7]);
    });
    it('holds out every row at or after a cutoff', () => {
      assert.deepEqual([...splitRows(dataset, { kind: 'time', timeColumn: 'time', cutoff: 75 }).holdout], [7, 8, 9]);
    });
    it('refuses a cutoff that leaves nothing to train on', () => {
      assert.throws(() => splitRows(dataset, { kind: 'time', timeColumn: 'time', cutoff: 0 }), DatasetError);
    });
  });
});

describe('feature encoding', () => {
  it('target-encodes categories with smoothing, unknown and missing as NaN', () => {
    const labels = labelValues(dataset, 'label', 'binary');
    const encoding = fitFeatureEncoding(dataset, ['city'], labels, 2);
    const spec = encoding.features[0]!;
    assert.equal(spec.kind, 'categorical');
    if (spec.kind !== 'categorical') return;
    assert.deepEqual(spec.categories, ['a', 'b', 'c']);
    // prior 0.5; a: 4 of 4 → (4 + 1) / 6; b: 1 of 4 → (1 + 1) / 6; c: 0 of 1 → 1 / 3.
    assert.deepEqual([...spec.codes], [Math.fround(5 / 6), Math.fround(2 / 6), Math.fround(1 / 3)]);
    const other = createDataset([['city', categoricalColumn(['b', 'zzz', null])]]);
    const [encoded] = encodeFeatures(other, encoding);
    assert.equal(encoded![0], Math.fround(2 / 6));
    assert.ok(Number.isNaN(encoded![1]!) && Number.isNaN(encoded![2]!));
  });

  it('refuses a binary label that is not 0/1', () => {
    const bad = createDataset([['label', numericColumn([0, 2])]]);
    assert.throws(() => labelValues(bad, 'label', 'binary'), /must be 0\/1/);
  });
});
