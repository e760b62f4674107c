import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { binaryClassificationMetrics, curves, logLoss, rocAuc } from './classification';
import { regressionMetrics } from './regression';

const close = (actual: number, expected: number, tolerance = 1e-12) => assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} ≠ ${expected}`);

describe('classification metrics', () => {
  describe('AUC', () => {
    it('is 0.75 on the scikit-learn roc_auc_score example', () => {
      close(rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.75);
    });
    it('counts a tied positive/negative pair as half', () => {
      // Pairs (pos, neg): (0.5 vs 0.5) = ½, (0.5 vs 0.2) = 1, (0.9 vs 0.5) = 1, (0.9 vs 0.2) = 1 → 3.5 / 4.
      close(rocAuc([1, 0, 1, 0], [0.5, 0.5, 0.9, 0.2]), 0.875);
    });
    it('is 1 for a perfect ranking and NaN with one class only', () => {
      close(rocAuc([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]), 1);
      assert.ok(Number.isNaN(rocAuc([1, 1], [0.2, 0.3])));
    });
  });

  it('log loss matches the scikit-learn log_loss example (0.21616…)', () => {
    close(logLoss([1, 0, 0, 1], [0.9, 0.1, 0.2, 0.65]), 0.21616187468057912, 1e-12);
  });

  it('counts precision, recall, F1 and accuracy at the threshold', () => {
    // Predicted positive at ≥ 0.5: rows 0, 1, 3 → TP 2 (rows 0, 3), FP 1 (row 1), FN 1 (row 4), TN 1.
    const metrics = binaryClassificationMetrics([1, 0, 0, 1, 1], [0.9, 0.6, 0.2, 0.5, 0.4]);
    close(metrics.precision, 2 / 3);
    close(metrics.recall, 2 / 3);
    close(metrics.f1, 2 / 3);
    close(metrics.accuracy, 3 / 5);
    close(metrics.positive_rate, 3 / 5);
    const strict = binaryClassificationMetrics([1, 0, 0, 1, 1], [0.9, 0.6, 0.2, 0.5, 0.4], 0.95);
    assert.deepEqual([strict.precision, strict.recall, strict.f1], [0, 0, 0]);
  });

  it('draws ROC and PR curves through every distinct threshold, from (0, 0) to (1, 1)', () => {
    const { roc, pr } = curves([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);
    assert.deepEqual(
      roc.map((point) => [point.threshold, point.fpr, point.tpr]),
      [
        [Number.POSITIVE_INFINITY, 0, 0],
        [0.8, 0, 0.5],
        [0.4, 0.5, 0.5],
        [0.35, 0.5, 1],
        [0.1, 1, 1],
      ],
    );
    assert.deepEqual(
      pr.map((point) => [point.threshold, point.precision, point.recall]),
      [
        [0.8, 1, 0.5],
        [0.4, 0.5, 0.5],
        [0.35, 2 / 3, 1],
        [0.1, 0.5, 1],
      ],
    );
  });

  it('thins long curves to the requested number of points, keeping both ends', () => {
    const labels = Array.from({ length: 1000 }, (_, index) => index % 2);
    const scores = Array.from({ length: 1000 }, (_, index) => index / 1000);
    const { roc } = curves(labels, scores, 50);
    assert.equal(roc.length, 50);
    assert.deepEqual([roc[0]!.fpr, roc[49]!.fpr, roc[49]!.tpr], [0, 1, 1]);
  });
});

describe('regression metrics', () => {
  it('match the scikit-learn examples (MSE 0.375, MAE 0.5, R² 0.9486…)', () => {
    const metrics = regressionMetrics([3, -0.5, 2, 7], [2.5, 0, 2, 8]);
    close(metrics.rmse, Math.sqrt(0.375));
    close(metrics.mae, 0.5);
    close(metrics.r2, 0.9486081370449679);
  });
});
