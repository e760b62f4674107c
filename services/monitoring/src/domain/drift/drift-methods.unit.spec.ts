import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { datasetDrift, defaultDriftMethod, defaultThreshold, isDrifted, resolveDriftMethod } from './drift-methods';

describe('defaultDriftMethod (Evidently 0.7.23)', () => {
  describe('when the reference has at most 1000 values', () => {
    it('tests numerical features with more than 5 values by KS', () => assert.equal(defaultDriftMethod({ kind: 'numerical', referenceSize: 1000, distinctValues: 6 }), 'ks'));
    it('tests numerical features with 3–5 values by χ²', () => assert.equal(defaultDriftMethod({ kind: 'numerical', referenceSize: 50, distinctValues: 5 }), 'chisquare'));
    it('tests binary features by the Z-test', () => {
      assert.equal(defaultDriftMethod({ kind: 'numerical', referenceSize: 50, distinctValues: 2 }), 'z');
      assert.equal(defaultDriftMethod({ kind: 'categorical', referenceSize: 50, distinctValues: 2 }), 'z');
    });
    it('tests categorical features by χ²', () => assert.equal(defaultDriftMethod({ kind: 'categorical', referenceSize: 50, distinctValues: 3 }), 'chisquare'));
  });

  describe('when the reference has more than 1000 values', () => {
    it('measures numerical features by the normed Wasserstein distance', () => assert.equal(defaultDriftMethod({ kind: 'numerical', referenceSize: 1001, distinctValues: 6 }), 'wasserstein'));
    it('measures few-valued and categorical features by Jensen–Shannon', () => {
      assert.equal(defaultDriftMethod({ kind: 'numerical', referenceSize: 1001, distinctValues: 5 }), 'jensenshannon');
      assert.equal(defaultDriftMethod({ kind: 'categorical', referenceSize: 1001, distinctValues: 50 }), 'jensenshannon');
    });
  });
});

describe('thresholds', () => {
  it('defaults to 0.05 for p-values and 0.1 for distances', () => {
    assert.equal(defaultThreshold('ks'), 0.05);
    assert.equal(defaultThreshold('z'), 0.05);
    assert.equal(defaultThreshold('psi'), 0.1);
    assert.equal(defaultThreshold('wasserstein'), 0.1);
  });

  it('compares as Evidently does: KS at p ≤ t, χ² and Z at p < t, distances at ≥ t', () => {
    assert.equal(isDrifted('ks', 0.05, 0.05), true);
    assert.equal(isDrifted('chisquare', 0.05, 0.05), false);
    assert.equal(isDrifted('z', 0.05, 0.05), false);
    assert.equal(isDrifted('jensenshannon', 0.1, 0.1), true);
    assert.equal(isDrifted('psi', 0.099, 0.1), false);
  });
});

describe('resolveDriftMethod', () => {
  it('refuses KS and Wasserstein for a categorical feature', () => {
    assert.throws(() => resolveDriftMethod('wasserstein', 'origin', { kind: 'categorical', referenceSize: 10, distinctValues: 3 }), /"wasserstein" needs a numerical feature, but "origin" is categorical/);
  });

  it('refuses χ² and Z for a numerical feature, as Evidently does when they are asked for', () => {
    assert.throws(() => resolveDriftMethod('chisquare', 'hour', { kind: 'numerical', referenceSize: 10, distinctValues: 3 }), /"chisquare" needs a categorical feature, but "hour" is numerical/);
  });

  it('gives PSI and Jensen–Shannon to both kinds', () => {
    assert.equal(resolveDriftMethod('psi', 'hour', { kind: 'numerical', referenceSize: 10, distinctValues: 3 }), 'psi');
    assert.equal(resolveDriftMethod('jensenshannon', 'origin', { kind: 'categorical', referenceSize: 10, distinctValues: 3 }), 'jensenshannon');
  });
});

describe('datasetDrift', () => {
  it('drifts when the drifted share reaches driftShare', () => {
    assert.deepEqual(datasetDrift([true, false], 0.5), { driftedShare: 0.5, drifted: true });
    assert.deepEqual(datasetDrift([true, false, false], 0.5), { driftedShare: 1 / 3, drifted: false });
  });
});
