import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judgeCanary, sideOf, type LiveVersion } from './canary-comparison';

const row = (version: number, trafficRole: string, labelled: number, metrics: Record<string, number | null>, predictions = labelled * 2): LiveVersion => ({ version, trafficRole, predictions, labelled, metrics });
const rules = { metric: 'accuracy', maxRegression: 0, minLabelled: 100 };

describe('the canary comparison', () => {
  describe('when a side has too few labelled predictions', () => {
    it('waits and says which side and how many', () => {
      const verdict = judgeCanary([row(1, 'primary', 900, { accuracy: 0.7 }), row(2, 'canary', 40, { accuracy: 0.9 })], 1, 2, rules);
      assert.equal(verdict.decision, 'wait');
      assert.match(verdict.why, /challenger v2 has 40 of 100 labelled/);
    });

    it('waits when the champion has no traffic at all', () => {
      const verdict = judgeCanary([row(2, 'canary', 500, { accuracy: 0.9 })], 1, 2, rules);
      assert.equal(verdict.decision, 'wait');
      assert.match(verdict.why, /champion v1 has 0 of 100/);
    });

    it('waits when the metric is missing though labels are enough', () => {
      const verdict = judgeCanary([row(1, 'primary', 500, { accuracy: 0.7 }), row(2, 'canary', 500, { accuracy: null })], 1, 2, rules);
      assert.equal(verdict.decision, 'wait');
      assert.match(verdict.why, /but no accuracy/);
    });
  });

  describe('when both sides have enough labels', () => {
    it('promotes a challenger that is better', () => {
      const verdict = judgeCanary([row(1, 'primary', 900, { accuracy: 0.7 }), row(2, 'canary', 120, { accuracy: 0.74 })], 1, 2, rules);
      assert.ok(verdict.decision === 'promote' && Math.abs(verdict.regression + 0.04) < 1e-9, verdict.why);
      assert.match(verdict.why, /challenger v2 0\.7400 \(120 labelled\) vs champion v1 0\.7000 \(900 labelled\)/);
    });

    it('promotes an equal challenger with no allowed regression', () => {
      assert.equal(judgeCanary([row(1, 'primary', 900, { accuracy: 0.7 }), row(2, 'canary', 120, { accuracy: 0.7 })], 1, 2, rules).decision, 'promote');
    });

    it('rolls back a worse challenger', () => {
      const verdict = judgeCanary([row(1, 'primary', 900, { accuracy: 0.7 }), row(2, 'canary', 120, { accuracy: 0.65 })], 1, 2, rules);
      assert.equal(verdict.decision, 'rollback');
      assert.match(verdict.why, /regression 0\.0500 > allowed 0\.0000/);
    });

    it('tolerates a regression within maxRegression', () => {
      const verdict = judgeCanary([row(1, 'primary', 900, { accuracy: 0.7 }), row(2, 'canary', 120, { accuracy: 0.69 })], 1, 2, { ...rules, maxRegression: 0.02 });
      assert.equal(verdict.decision, 'promote');
    });

    it('reads lower-is-better metrics the other way round', () => {
      const rows = [row(1, 'primary', 900, { log_loss: 0.6 }), row(2, 'canary', 120, { log_loss: 0.5 })];
      assert.equal(judgeCanary(rows, 1, 2, { ...rules, metric: 'log_loss' }).decision, 'promote');
      assert.equal(judgeCanary(rows, 2, 1, { ...rules, metric: 'log_loss' }).decision, 'rollback');
    });
  });

  describe('a version with rows in several traffic roles', () => {
    it('adds the counts and keeps the metric of the most-labelled row', () => {
      const side = sideOf([row(1, 'primary', 300, { accuracy: 0.7 }, 1000), row(1, 'shadow', 50, { accuracy: 0.2 }, 80), row(2, 'canary', 10, { accuracy: 1 })], 1, 'accuracy');
      assert.deepEqual(side, { version: 1, predictions: 1080, labelled: 350, value: 0.7 });
    });
  });
});
