import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Tensor } from '../domain/tensor/tensor';
import { BatchScheduler, type BatchSchedulerOptions } from './batch-scheduler';
import type { LoadedModel } from './ports';
import { ServingError } from './serving-error';

/** A model that doubles its input and records the row count of every run. */
function doublingModel(): LoadedModel & { runs: number[] } {
  const runs: number[] = [];
  return {
    runs,
    executionProvider: 'test',
    signature: { inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 1] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }] },
    run: async (inputs) => {
      runs.push(inputs[0].shape[0]);
      return [{ name: 'y', datatype: 'FP32', shape: [...inputs[0].shape], data: (inputs[0].data as Float32Array).map((value) => value * 2) }];
    },
    release: async () => undefined,
  };
}

const row = (value: number): Tensor[] => [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: new Float32Array([value]) }];

function scheduler(model: LoadedModel, overrides: Partial<BatchSchedulerOptions> = {}) {
  const counters = { expired: 0 };
  const instance = new BatchScheduler(model, {
    maxBatchRows: 32,
    maxDelayMs: 0,
    batchable: true,
    now: Date.now,
    onExpired: () => counters.expired++,
    onRun: () => undefined,
    ...overrides,
  });
  return { instance, counters };
}

describe('BatchScheduler', () => {
  describe('when requests arrive together', () => {
    it('runs them as one batch and gives each its own rows', async () => {
      const model = doublingModel();
      const { instance } = scheduler(model);
      const results = await Promise.all([1, 2, 3].map((value) => instance.submit({ inputs: row(value), outputNames: ['y'], deadline: Date.now() + 1_000 })));
      assert.deepEqual(model.runs, [3]);
      assert.deepEqual(results.map((outputs) => Array.from(outputs[0].data as Float32Array)), [[2], [4], [6]]);
    });

    it('never puts more than maxBatchRows rows in a run', async () => {
      const model = doublingModel();
      const { instance } = scheduler(model, { maxBatchRows: 2 });
      await Promise.all([1, 2, 3, 4, 5].map((value) => instance.submit({ inputs: row(value), outputNames: ['y'], deadline: Date.now() + 1_000 })));
      assert.deepEqual(model.runs, [2, 2, 1]);
    });

    it('runs them one by one when the model cannot be batched', async () => {
      const model = doublingModel();
      const { instance } = scheduler(model, { batchable: false });
      await Promise.all([1, 2].map((value) => instance.submit({ inputs: row(value), outputNames: ['y'], deadline: Date.now() + 1_000 })));
      assert.deepEqual(model.runs, [1, 1]);
    });
  });

  describe('when a request waited past its deadline', () => {
    it('drops it unrun and counts it', async () => {
      const model = doublingModel();
      const { instance, counters } = scheduler(model);
      const expired = instance.submit({ inputs: row(1), outputNames: ['y'], deadline: Date.now() - 1 });
      const live = instance.submit({ inputs: row(2), outputNames: ['y'], deadline: Date.now() + 1_000 });
      await assert.rejects(expired, (error: unknown) => error instanceof ServingError && error.code === 'DEADLINE_EXCEEDED');
      await live;
      assert.deepEqual(model.runs, [1]);
      assert.equal(counters.expired, 1);
    });
  });

  describe('when one request of a batch makes the run fail', () => {
    it('fails only that request', async () => {
      const model = doublingModel();
      const failing: LoadedModel = {
        ...model,
        run: async (inputs) => {
          if (Array.from(inputs[0].data as Float32Array).includes(13)) throw new Error('unlucky');
          return model.run(inputs, ['y']);
        },
      };
      const { instance } = scheduler(failing);
      const [good, bad] = await Promise.allSettled([1, 13].map((value) => instance.submit({ inputs: row(value), outputNames: ['y'], deadline: Date.now() + 1_000 })));
      assert.equal(good.status, 'fulfilled');
      assert.equal(bad.status, 'rejected');
      assert.match(String((bad as PromiseRejectedResult).reason.message), /the model failed to run: unlucky/);
    });
  });
});
