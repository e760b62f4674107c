import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '@loopline/errors';
import { bestTrial, trialsOf } from './search-space';

describe('search space', () => {
  describe('grid', () => {
    it('lists every combination in a fixed order (parameters by name)', () => {
      const trials = trialsOf({ numLeaves: { values: [15, 31] }, learningRate: { values: [0.05, 0.1, 0.2] } }, { strategy: 'grid', maxTrials: 100, seed: 1 });
      assert.equal(trials.length, 6);
      assert.deepEqual(trials[0], { learningRate: 0.05, numLeaves: 15 });
      assert.deepEqual(trials[5], { learningRate: 0.2, numLeaves: 31 });
    });
    it('refuses ranges and grids larger than maxTrials', () => {
      assert.throws(() => trialsOf({ lr: { min: 0.01, max: 0.3 } }, { strategy: 'grid', maxTrials: 10, seed: 1 }), ValidationError);
      assert.throws(() => trialsOf({ a: { values: [1, 2, 3] }, b: { values: [1, 2, 3] } }, { strategy: 'grid', maxTrials: 8, seed: 1 }), /more than 8/);
    });
  });

  describe('random', () => {
    const space = { learningRate: { min: 0.01, max: 0.3, scale: 'log' as const }, numLeaves: { min: 4, max: 64, integer: true }, growth: { values: ['leafwise', 'depthwise'] } };
    it('draws the same trials for the same seed, within the bounds', () => {
      const trials = trialsOf(space, { strategy: 'random', maxTrials: 20, seed: 9 });
      assert.deepEqual(trials, trialsOf(space, { strategy: 'random', maxTrials: 20, seed: 9 }));
      assert.notDeepEqual(trials, trialsOf(space, { strategy: 'random', maxTrials: 20, seed: 10 }));
      for (const trial of trials) {
        assert.ok((trial.learningRate as number) >= 0.01 && (trial.learningRate as number) <= 0.3);
        assert.ok(Number.isInteger(trial.numLeaves) && (trial.numLeaves as number) >= 4 && (trial.numLeaves as number) <= 64);
      }
    });
    it('refuses a log scale that reaches zero', () => {
      assert.throws(() => trialsOf({ l2: { min: 0, max: 1, scale: 'log' } }, { strategy: 'random', maxTrials: 2, seed: 1 }), ValidationError);
    });
  });

  it('picks the best trial by metric and direction; trials without the metric never win; ties go to the first', () => {
    const results = [{ auc: 0.8, log_loss: 0.5 }, null, { auc: 0.9, log_loss: 0.6 }, { auc: 0.9, log_loss: 0.4 }];
    assert.equal(bestTrial(results, 'auc', 'maximize'), 2);
    assert.equal(bestTrial(results, 'log_loss', 'minimize'), 3);
    assert.equal(bestTrial([null, { rmse: Number.NaN }], 'rmse', 'minimize'), -1);
  });
});
