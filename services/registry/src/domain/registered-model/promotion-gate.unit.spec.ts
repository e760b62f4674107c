import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateGate } from './promotion-gate';
import type { MetricThreshold, PromotionPolicy } from './registered-model';

const threshold = (overrides: Partial<MetricThreshold> & Pick<MetricThreshold, 'metric' | 'direction'>): MetricThreshold => ({
  lowerBound: null,
  upperBound: null,
  minImprovement: null,
  maxDegradation: null,
  ...overrides,
});

const policy: PromotionPolicy = {
  name: 'gate',
  baselineAlias: 'champion',
  thresholds: [
    threshold({ metric: 'auc', direction: 'HIGHER_IS_BETTER', lowerBound: 0.7, minImprovement: 0.01 }),
    threshold({ metric: 'log_loss', direction: 'LOWER_IS_BETTER', upperBound: 0.6, maxDegradation: 0.02 }),
  ],
};

describe('promotion gate', () => {
  describe('with no baseline', () => {
    it('passes on value thresholds alone and skips change thresholds', () => {
      const evidence = evaluateGate(policy, { version: 1, metrics: { auc: 0.71, log_loss: 0.59 } }, null);
      assert.equal(evidence.passed, true);
      assert.equal(evidence.baselineVersion, null);
      assert.deepEqual(evidence.checks.map((check) => check.kind), ['LOWER_BOUND', 'UPPER_BOUND']);
    });

    it('fails a value threshold with the numbers', () => {
      const evidence = evaluateGate(policy, { version: 1, metrics: { auc: 0.69, log_loss: 0.5 } }, null);
      assert.equal(evidence.passed, false);
      assert.deepEqual(evidence.checks[0], {
        metric: 'auc',
        kind: 'LOWER_BOUND',
        comparator: 'AT_LEAST',
        candidateValue: 0.69,
        baselineValue: null,
        threshold: 0.7,
        passed: false,
        description: 'auc >= 0.7',
      });
    });

    it('rubber-stamps a policy of change thresholds only, as TFX does', () => {
      const changeOnly: PromotionPolicy = { ...policy, thresholds: [threshold({ metric: 'auc', direction: 'HIGHER_IS_BETTER', minImprovement: 0.01 })] };
      const evidence = evaluateGate(changeOnly, { version: 1, metrics: {} }, null);
      assert.deepEqual({ passed: evidence.passed, checks: evidence.checks.length }, { passed: true, checks: 0 });
    });
  });

  describe('against a baseline', () => {
    const baseline = { version: 3, metrics: { auc: 0.74, log_loss: 0.5 } };

    it('passes a candidate better by at least the improvement (despite float rounding)', () => {
      // 0.74 + 0.01 is 0.7500000000000001 in binary floating point.
      const evidence = evaluateGate(policy, { version: 4, metrics: { auc: 0.75, log_loss: 0.52 } }, baseline);
      assert.equal(evidence.passed, true, JSON.stringify(evidence.checks));
      const improvement = evidence.checks.find((check) => check.kind === 'MIN_IMPROVEMENT');
      assert.equal(improvement?.baselineValue, 0.74);
      assert.ok(Math.abs((improvement?.threshold ?? 0) - 0.75) < 1e-12);
      assert.equal(improvement?.description, 'auc >= champion.auc + 0.01');
    });

    it('refuses a candidate that is not better by enough', () => {
      const evidence = evaluateGate(policy, { version: 4, metrics: { auc: 0.745, log_loss: 0.5 } }, baseline);
      assert.equal(evidence.passed, false);
      assert.deepEqual(evidence.checks.filter((check) => !check.passed).map((check) => check.kind), ['MIN_IMPROVEMENT']);
    });

    it('refuses a candidate worse than allowed on a lower-is-better metric', () => {
      const evidence = evaluateGate(policy, { version: 4, metrics: { auc: 0.8, log_loss: 0.53 } }, baseline);
      const degradation = evidence.checks.find((check) => check.kind === 'MAX_DEGRADATION');
      assert.equal(degradation?.passed, false);
      assert.equal(degradation?.comparator, 'AT_MOST');
      assert.equal(degradation?.description, 'log_loss <= champion.log_loss + 0.02');
    });

    it('treats lower-is-better improvement as a decrease', () => {
      const lossGate: PromotionPolicy = { ...policy, thresholds: [threshold({ metric: 'log_loss', direction: 'LOWER_IS_BETTER', minImprovement: 0.05 })] };
      assert.equal(evaluateGate(lossGate, { version: 4, metrics: { log_loss: 0.44 } }, baseline).passed, true);
      assert.equal(evaluateGate(lossGate, { version: 4, metrics: { log_loss: 0.46 } }, baseline).passed, false);
    });

    it('fails a check whose metric the candidate lacks', () => {
      const evidence = evaluateGate(policy, { version: 4, metrics: { log_loss: 0.5 } }, baseline);
      const auc = evidence.checks.filter((check) => check.metric === 'auc');
      assert.ok(auc.every((check) => !check.passed && check.candidateValue === null));
      assert.match(auc[0]!.description, /candidate has no metric "auc"/);
    });

    it('fails a change check whose metric the baseline lacks', () => {
      const evidence = evaluateGate(policy, { version: 4, metrics: { auc: 0.9, log_loss: 0.1 } }, { version: 3, metrics: { log_loss: 0.5 } });
      const improvement = evidence.checks.find((check) => check.kind === 'MIN_IMPROVEMENT');
      assert.deepEqual([improvement?.passed, improvement?.threshold], [false, null]);
      assert.match(improvement!.description, /baseline has no metric/);
    });
  });
});
