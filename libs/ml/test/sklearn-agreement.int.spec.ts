/**
 * Our metrics against scikit-learn's on the same numbers (python3 with scikit-learn, which CI
 * installs from services/serving/test/python/requirements.txt). Real: scikit-learn.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { binaryClassificationMetrics, Prng, regressionMetrics } from '../src';

const script = `
import json, sys
from sklearn import metrics
data = json.load(sys.stdin)
y, s, t, p = data["labels"], data["scores"], data["targets"], data["predictions"]
hard = [1 if v >= 0.5 else 0 for v in s]
print(json.dumps({
  "auc": metrics.roc_auc_score(y, s), "log_loss": metrics.log_loss(y, s), "accuracy": metrics.accuracy_score(y, hard),
  "precision": metrics.precision_score(y, hard), "recall": metrics.recall_score(y, hard), "f1": metrics.f1_score(y, hard),
  "rmse": metrics.mean_squared_error(t, p) ** 0.5, "mae": metrics.mean_absolute_error(t, p), "r2": metrics.r2_score(t, p),
}))
`;

describe('metrics agree with scikit-learn', () => {
  it('AUC, log loss, accuracy, precision, recall, F1, RMSE, MAE and R² to 1e-9', () => {
    const prng = new Prng(3);
    const labels: number[] = [];
    const scores: number[] = [];
    const targets: number[] = [];
    const predictions: number[] = [];
    for (let i = 0; i < 2_000; i += 1) {
      const label = prng.nextFloat() < 0.3 ? 1 : 0;
      labels.push(label);
      // Rounded to two decimals: many ties, which is where AUC implementations differ.
      scores.push(Math.round(Math.min(0.99, Math.max(0.01, 0.3 + 0.25 * label + 0.2 * prng.nextGaussian())) * 100) / 100);
      const target = 10 * prng.nextGaussian();
      targets.push(target);
      predictions.push(target + prng.nextGaussian());
    }
    const run = spawnSync('python3', ['-c', script], { input: JSON.stringify({ labels, scores, targets, predictions }), encoding: 'utf8' });
    assert.equal(run.status, 0, `python3 with scikit-learn is required: ${run.stderr}`);
    const expected = JSON.parse(run.stdout) as Record<string, number>;
    const actual: Record<string, number> = { ...binaryClassificationMetrics(labels, scores), ...regressionMetrics(targets, predictions) };
    for (const [name, value] of Object.entries(expected)) assert.ok(Math.abs(actual[name]! - value) <= 1e-9, `${name}: ours ${actual[name]}, scikit-learn ${value}`);
  });
});
