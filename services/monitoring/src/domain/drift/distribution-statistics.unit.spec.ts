/**
 * The count-based statistics against Evidently 0.7.23's own functions (`_psi`, `_jensenshannon`,
 * `_chi_stat_test`, `_z_stat_test` run on pandas Series with these counts) and numpy's Sturges rule.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chiSquareTest, jensenShannonDistance, populationStabilityIndex, sturgesBinCount, zTest, type BinCounts } from './distribution-statistics';

const bins = (reference: number[], current: number[]): BinCounts[] => reference.map((count, index) => ({ reference: count, current: current[index]! }));
const total = (counts: number[]) => counts.reduce((a, b) => a + b, 0);

function close(actual: number, expected: number, tolerance: number): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual}, Evidently ${expected}`);
}

describe('populationStabilityIndex', () => {
  it('fills empty bins with 0.0001 of the mass, as Evidently does', () => {
    close(populationStabilityIndex(bins([10, 0, 5, 85], [20, 3, 0, 77]), 100, 100), 0.5578744249304128, 1e-12);
  });

  it('fills with a millionth of the smallest share when that share is at most 0.0001', () => {
    close(populationStabilityIndex(bins([100000, 1, 0], [50000, 0, 7]), 100001, 50007), 0.0025105493640654787, 1e-12);
  });
});

describe('jensenShannonDistance', () => {
  it('keeps empty bins at zero and uses the natural log', () => {
    close(jensenShannonDistance(bins([10, 0, 5, 85], [20, 3, 0, 77]), 100, 100), 0.19289607357213107, 1e-12);
  });

  it('is 0 for identical distributions', () => {
    assert.equal(jensenShannonDistance(bins([5, 5], [50, 50]), 10, 100), 0);
  });
});

describe('chiSquareTest', () => {
  it('scales the reference counts to the current size', () => {
    const reference = [10, 1, 5, 84];
    const current = [20, 3, 2, 75];
    close(chiSquareTest(bins(reference, current), total(reference), total(current)), 0.0007901719004441554, 1e-12);
  });

  it('gives p = 0 for a value the reference never had', () => {
    assert.equal(chiSquareTest(bins([10, 0], [5, 5]), 10, 10), 0);
  });
});

describe('zTest', () => {
  it('compares the shares of values other than the smallest', () => {
    close(zTest(bins([300, 200], [180, 220]), 500, 400), 7.3909568734098485e-6, 1e-15);
  });

  it('gives p = 1 when both sides hold one and the same value', () => {
    assert.equal(zTest(bins([30], [40]), 30, 40), 1);
  });
});

describe('sturgesBinCount', () => {
  it('follows numpy: ⌈range / (range / (log2 n + 1))⌉ bins', () => {
    assert.equal(sturgesBinCount(5, 0, 3.3, false), 4);
    assert.equal(sturgesBinCount(1000, 0, 999, false), 11);
    assert.equal(sturgesBinCount(1025, 0, 1024, false), 12);
  });

  it('makes integer bins at least 1 wide', () => {
    assert.equal(sturgesBinCount(100_000, 0, 5, true), 5);
    assert.equal(sturgesBinCount(100_000, 0, 5, false), 18);
  });
});
