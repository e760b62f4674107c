import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cumulativeShare, jensenShannonDistance, ksStatistic, lInfinityDistance, populationStabilityIndex, psiOfShares } from './distribution';

/** Quantiles at 0, 1%, …, 100% of the values. */
function quantilesOf(values: readonly number[]): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  return Array.from({ length: 101 }, (_, i) => sorted[Math.round((i / 100) * (sorted.length - 1))]!);
}
const uniform = (from: number, to: number, n = 10_000) => Array.from({ length: n }, (_, i) => from + ((to - from) * i) / (n - 1));

describe('distribution distances', () => {
  it('reads the cumulative share from quantiles, ties included', () => {
    const q = quantilesOf(uniform(0, 100));
    assert.equal(cumulativeShare(q, -1), 0);
    assert.equal(cumulativeShare(q, 100), 1);
    assert.ok(Math.abs(cumulativeShare(q, 25) - 0.25) < 0.011);
    // 70% of the values are 0: F(0) is 0.7, not 0.
    const tied = quantilesOf([...Array(700).fill(0), ...uniform(1, 10, 300)]);
    assert.ok(Math.abs(cumulativeShare(tied, 0) - 0.7) < 0.011);
  });

  it('finds no distance between a distribution and itself', () => {
    const q = quantilesOf(uniform(-10, 30));
    assert.equal(ksStatistic(q, q), 0);
    assert.equal(populationStabilityIndex(q, q), 0);
  });

  it('measures a shift: KS equals the moved share, PSI grows with it', () => {
    const reference = quantilesOf(uniform(0, 100));
    const shifted = quantilesOf(uniform(30, 130));
    assert.ok(Math.abs(ksStatistic(reference, shifted) - 0.3) < 0.02, String(ksStatistic(reference, shifted)));
    const slightly = quantilesOf(uniform(5, 105));
    assert.ok(populationStabilityIndex(reference, shifted) > populationStabilityIndex(reference, slightly));
    assert.ok(populationStabilityIndex(reference, slightly) < 0.1);
    assert.ok(populationStabilityIndex(reference, shifted) > 0.2);
  });

  it('computes PSI as Evidently does, empty shares replaced by 0.0001', () => {
    const psi = psiOfShares([0.5, 0.5], [0.9, 0.1]);
    assert.ok(Math.abs(psi - ((0.9 - 0.5) * Math.log(0.9 / 0.5) + (0.1 - 0.5) * Math.log(0.1 / 0.5))) < 1e-12);
    assert.ok(Math.abs(psiOfShares([1, 0], [1, 0])) < 1e-12);
  });

  it('measures categorical change as L-infinity and Jensen-Shannon distance', () => {
    const reference = { top: [{ value: 'ATL', count: 50 }, { value: 'ORD', count: 50 }], other: 0 };
    const current = { top: [{ value: 'ATL', count: 80 }, { value: 'ORD', count: 20 }], other: 0 };
    assert.ok(Math.abs(lInfinityDistance(reference, current) - 0.3) < 1e-12);
    assert.equal(lInfinityDistance(reference, reference), 0);
    assert.equal(jensenShannonDistance(reference, reference), 0);
    // Disjoint categories: the largest JS distance with natural logarithms is √ln 2.
    const disjoint = { top: [{ value: 'SFO', count: 10 }], other: 0 };
    assert.ok(Math.abs(jensenShannonDistance(reference, disjoint) - Math.sqrt(Math.LN2)) < 1e-12);
    assert.equal(lInfinityDistance(reference, disjoint), 1);
  });
});
