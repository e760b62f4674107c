/** The special functions against scipy 1.17.1 (values printed by scipy.stats / scipy.special). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chiSquareSurvival, erfc, logGamma, normalSurvival } from './special-functions';

function close(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual}, scipy ${expected}`);
}

describe('chiSquareSurvival (scipy chi2.sf)', () => {
  const values: [number, number, number][] = [
    [0.5, 1, 0.47950012218695337],
    [3.2, 2, 0.2018965179946554],
    [10, 3, 0.01856613546304325],
    [7.7, 4, 0.10320672172612926],
    [30, 5, 1.4748581038443073e-5],
    [120, 80, 0.0025481923036133444],
    [900, 1000, 0.9892827619087102],
    [1500, 1000, 1.0454640385980825e-22],
    [0.01, 10, 0.999999999999974],
    [50, 2, 1.3887943864964e-11],
  ];
  for (const [statistic, df, expected] of values) {
    it(`matches scipy for χ²=${statistic} with ${df} degrees of freedom`, () => {
      close(chiSquareSurvival(statistic, df), expected, 1e-12, 'sf');
      // Relative accuracy too, for the tiny tails.
      assert.ok(Math.abs(chiSquareSurvival(statistic, df) / expected - 1) < 1e-10);
    });
  }

  it('is 1 at 0 and 0 at infinity', () => {
    assert.equal(chiSquareSurvival(0, 3), 1);
    assert.equal(chiSquareSurvival(Number.POSITIVE_INFINITY, 3), 0);
  });
});

describe('the two-sided normal tail 2·(1 − Φ(|z|))', () => {
  const values: [number, number][] = [
    [0, 1.0],
    [0.1, 0.920344325445942],
    [0.5, 0.6170750774519738],
    [1, 0.31731050786291415],
    [1.96, 0.04999579029644097],
    [2.5, 0.012419330651552318],
    [3, 0.002699796063260207],
    [4, 6.334248366623996e-5],
    [5.5, 3.797912495606681e-8],
    [7, 2.559730205575761e-12],
  ];
  for (const [z, expected] of values) {
    it(`matches scipy for z=${z}`, () => close(2 * normalSurvival(z), expected, 1e-15, 'p'));
  }

  it('has erfc symmetric around 1', () => {
    close(erfc(-1.3) + erfc(1.3), 2, 1e-15, 'erfc(-x) + erfc(x)');
  });
});

describe('logGamma (scipy special.gammaln)', () => {
  const values: [number, number][] = [
    [0.1, 2.252712651734206],
    [0.5, 0.5723649429247],
    [1, 0],
    [1.5, -0.12078223763524526],
    [3.7, 1.428072326665388],
    [10, 12.801827480081469],
    [100.5, 361.43554046777757],
    [1000, 5905.220423209181],
    [123456.7, 1323900.975390918],
  ];
  for (const [x, expected] of values) {
    it(`matches scipy for x=${x}`, () => close(logGamma(x), expected, 1e-12 * Math.max(1, Math.abs(expected)), 'lgamma'));
  }
});
