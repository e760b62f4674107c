/**
 * The KS p-value port against scipy 1.17.1: every expected value below was printed by scipy
 * (`_compute_prob_outside_square`, `_compute_outer_prob_inside_method`, `kstwo.sf`,
 * `special.smirnov`), chosen so that each branch of scipy's code is taken at least once.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { durbinMatrixCdf, kolmogorovTwoSidedSurvival, ksTwoSampleTest, pelzGoodCdf, pomeranzCdf, smirnovSurvival } from './ks-p-value';

const tolerance = 1e-9;

function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual}, scipy ${expected} (difference ${Math.abs(actual - expected)})`);
}

describe('ksTwoSampleTest', () => {
  describe('when both samples have at most 10,000 values (exact)', () => {
    // [D·n1·n2, n1, n2, scipy's p-value]
    const exact: [number, number, number, number][] = [
      [18, 5, 7, 0.3282828282828283],
      [1500, 100, 100, 0.21117008625127576],
      [8000, 400, 400, 0.7000433606572674],
      [25200, 700, 450, 0.05640353632820284],
      [29970, 1000, 999, 0.7410522679958675],
      [1800000, 10000, 9000, 0.04450301490911741],
      [45000, 30, 5000, 0.007087081656364503],
      [12, 3, 4, 0.05714285714285715],
    ];
    for (const [dTimesSizes, n1, n2, pValue] of exact) {
      it(`matches scipy for n1=${n1}, n2=${n2}, D=${dTimesSizes / n1 / n2}`, () => {
        const result = ksTwoSampleTest(dTimesSizes, n1, n2);
        assert.equal(result.mode, 'exact');
        close(result.pValue, pValue, 'p-value');
      });
    }

    it('gives p = 1 when the two empirical distributions never differ', () => {
      assert.deepEqual(ksTwoSampleTest(0, 300, 200), { statistic: 0, pValue: 1, mode: 'exact' });
    });
  });

  describe('when a sample has more than 10,000 values (asymptotic)', () => {
    it('uses kstwo.sf(D, round(n1·n2/(n1+n2)))', () => {
      // scipy.stats.ks_2samp on samples of 20,000 and 15,000 values with D = 0.02 → en = 8571.43 → n = 8571.
      const result = ksTwoSampleTest(0.02 * 20_000 * 15_000, 20_000, 15_000);
      assert.equal(result.mode, 'asymptotic');
      close(result.pValue, kolmogorovTwoSidedSurvival(8571, 0.02), 'p-value');
      close(result.pValue, 0.002075777528008902, 'p-value');
    });
  });

  it('refuses an empty sample', () => {
    assert.throws(() => ksTwoSampleTest(0, 0, 10), /two non-empty samples/);
  });
});

describe('kolmogorovTwoSidedSurvival (scipy kstwo.sf)', () => {
  // [n, x, scipy.stats.kstwo.sf(x, n)], covering Ruben–Gambino, Durbin/MTW, Pomeranz, Pelz–Good,
  // 2·smirnov (computed and, above n = 10^6, approximated).
  const values: [number, number, number][] = [
    [5, 0.15, 0.9988],
    [5, 0.3, 0.664],
    [5, 0.9, 1.9999999999999978e-5],
    [50, 0.05, 0.9990238098461883],
    [50, 0.1, 0.6623112704658186],
    [50, 0.2, 0.03143877776953241],
    [50, 0.4, 9.86356336441006e-8],
    [50, 0.6, 9.634070456142374e-18],
    [140, 0.3, 1.1370251710737309e-11],
    [1000, 0.0008, 1.0],
    [1000, 0.002, 1.0],
    [1000, 0.03, 0.3226902143914636],
    [1000, 0.05, 0.013012074781090332],
    [8571, 0.012, 0.16798018023058237],
    [8571, 0.02, 0.002075777528008902],
    [8571, 0.03, 3.8991184048675064e-7],
    [8571, 0.0005, 1.0],
    [200000, 0.002, 0.39995085369038097],
    [200000, 0.004, 0.003314212822560255],
    [500000, 0.001, 0.6989801443663661],
    [2000000, 0.0012, 0.006297183259583361],
    [2000000, 0.0003, 0.9937428356747875],
  ];
  for (const [n, x, expected] of values) {
    it(`matches scipy for n=${n}, x=${x}`, () => close(kolmogorovTwoSidedSurvival(n, x), expected, 'sf'));
  }

  it('agrees between its algorithms where their ranges meet', () => {
    // Durbin's matrix method is exact; Pomeranz's recursion too; Pelz–Good is an approximation.
    close(durbinMatrixCdf(50, 0.1), pomeranzCdf(50, 0.1), 'Durbin vs Pomeranz');
    assert.ok(Math.abs(pelzGoodCdf(5000, 0.012) - durbinMatrixCdf(5000, 0.012)) < 1e-6);
  });
});

describe('smirnovSurvival (scipy special.smirnov)', () => {
  const values: [number, number, number][] = [
    [10, 0.05, 0.9224335892010742],
    // 10·0.3 rounds to 3 in doubles although the double 0.3 is below 0.3: ⌊n·x⌋ must be 2.
    [10, 0.3, 0.1354635556],
    [100, 0.1, 0.1265906584562817],
    [1000, 0.05, 0.006506037390545166],
    [8571, 0.02, 0.001037888764004451],
    [500000, 0.003, 0.00012316150619593377],
    [2000000, 0.001, 0.018303432023617325],
  ];
  for (const [n, x, expected] of values) {
    it(`matches scipy for n=${n}, x=${x}`, () => close(smirnovSurvival(n, x), expected, 'sf'));
  }
});
