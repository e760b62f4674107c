import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { syntheticBinary, syntheticRegression } from '../../test/synthetic';
import { trainAndEvaluate, type TrainingRequest } from '../train';
import { ParamsError } from './model';
import { resolveBuiltinParams } from './builtin';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const binary = syntheticBinary({ rows: 6_000, seed: 11, missingRate: 0.05 });
const request: TrainingRequest = {
  dataset: binary,
  label: 'label',
  features: ['x1', 'x2', 'x3', 'city'],
  split: { kind: 'random', holdoutFraction: 0.25, seed: 3 },
  trainer: 'gbdt-classifier',
  params: { rounds: 40, numLeaves: 15, learningRate: 0.2 },
  seed: 42,
};

describe('built-in trainers', () => {
  describe('gbdt-classifier', () => {
    it('learns a separable problem (holdout AUC > 0.8) and beats the prior on log loss', () => {
      const outcome = trainAndEvaluate(request);
      assert.ok(outcome.metrics.auc! > 0.8, `AUC ${outcome.metrics.auc}`);
      const rate = outcome.metrics.positive_rate!;
      const priorLogLoss = -(rate * Math.log(rate) + (1 - rate) * Math.log(1 - rate));
      assert.ok(outcome.metrics.log_loss! < priorLogLoss - 0.1, `log loss ${outcome.metrics.log_loss} vs prior ${priorLogLoss}`);
      assert.deepEqual([outcome.trainRows, outcome.holdoutRows], [4_500, 1_500]);
      // The informative features carry the gain; x1 (coefficient 2 plus its interaction) the most.
      const ranked = [...outcome.featureImportance].sort((a, b) => b.gain - a.gain).map((entry) => entry.feature);
      assert.equal(ranked[0], 'x1');
      assert.ok(outcome.curves!.roc.length > 10 && outcome.curves!.pr.length > 10);
    });

    it('gives a bit-identical ONNX file for the same data, params and seed', () => {
      const first = trainAndEvaluate({ ...request, params: { ...request.params, featureFraction: 0.7 } });
      const second = trainAndEvaluate({ ...request, params: { ...request.params, featureFraction: 0.7 } });
      assert.equal(sha256(second.onnx), sha256(first.onnx));
      assert.deepEqual(second.metrics, first.metrics);
      const reseeded = trainAndEvaluate({ ...request, params: { ...request.params, featureFraction: 0.7 }, seed: 43 });
      assert.notEqual(sha256(reseeded.onnx), sha256(first.onnx), 'the seed drives feature sampling');
    });

    it('gives the same model on one thread and on two (histograms of large leaves split in fixed halves)', () => {
      // Enough rows for the root and the first splits to be built in two halves.
      const large = { ...request, dataset: syntheticBinary({ rows: 90_000, seed: 7, missingRate: 0.05 }), params: { rounds: 4, numLeaves: 15 } };
      const single = trainAndEvaluate({ ...large, threads: 1 });
      const parallel = trainAndEvaluate({ ...large, threads: 2 });
      assert.equal(sha256(parallel.onnx), sha256(single.onnx));
      assert.deepEqual(parallel.metrics, single.metrics);
      assert.ok(single.metrics.auc! > 0.8, `AUC ${single.metrics.auc}`);
    });

    it('grows depth-wise within maxDepth', () => {
      const outcome = trainAndEvaluate({ ...request, params: { rounds: 5, numLeaves: 64, maxDepth: 2, growth: 'depthwise' } });
      const model = outcome.model as unknown as { trees: { feature: Int32Array }[] };
      for (const tree of model.trees) assert.ok(tree.feature.length <= 7, `a depth-2 tree has at most 7 nodes, got ${tree.feature.length}`);
      assert.ok(outcome.metrics.auc! > 0.75);
    });
  });

  describe('logistic-regression', () => {
    it('learns the linear part of the problem', () => {
      const outcome = trainAndEvaluate({ ...request, trainer: 'logistic-regression', params: {} });
      assert.ok(outcome.metrics.auc! > 0.8, `AUC ${outcome.metrics.auc}`);
    });
  });

  describe('regressors', () => {
    const regression = syntheticRegression({ rows: 5_000, seed: 5 });
    const base = { dataset: regression, label: 'target', features: ['x1', 'x2', 'city'], split: { kind: 'random', holdoutFraction: 0.2, seed: 1 }, seed: 1 } as const;
    it('gbdt-regressor fits the non-linear target (R² > 0.9)', () => {
      const outcome = trainAndEvaluate({ ...base, trainer: 'gbdt-regressor', params: { rounds: 150 } });
      assert.ok(outcome.metrics.r2! > 0.9, `R² ${outcome.metrics.r2}`);
      assert.equal(outcome.curves, null);
    });
    it('linear-regression explains the linear part only (0.4 < R² < 0.85)', () => {
      const outcome = trainAndEvaluate({ ...base, trainer: 'linear-regression', params: {} });
      assert.ok(outcome.metrics.r2! > 0.4 && outcome.metrics.r2! < 0.85, `R² ${outcome.metrics.r2}`);
    });
  });

  describe('params', () => {
    it('fills in defaults and refuses unknown or out-of-range ones, naming them', () => {
      assert.equal(resolveBuiltinParams('gbdt-classifier', { rounds: '7' }).rounds, 7);
      assert.equal(resolveBuiltinParams('gbdt-classifier', {}).numLeaves, 31);
      assert.throws(() => resolveBuiltinParams('gbdt-classifier', { leaves: 3 }), (error: unknown) => error instanceof ParamsError && /"leaves"/.test(error.message));
      assert.throws(() => resolveBuiltinParams('gbdt-classifier', { maxBins: 300 }), /maxBins/);
      assert.throws(() => resolveBuiltinParams('logistic-regression', { l2: 'lots' }), /l2/);
    });
  });
});
