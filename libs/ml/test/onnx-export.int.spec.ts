/**
 * The exported ONNX models in the real ONNX Runtime (onnxruntime-node, CPU): their outputs equal
 * the in-process predictions to 1e-5 on the holdout — missing values and unseen categories
 * included — with plain tensor outputs (no ZipMap). Real: ONNX Runtime. Nothing mocked.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { categoricalColumn, createDataset, encodeFeatures, getColumn, selectRows, splitRows, trainAndEvaluate, type BuiltinTrainerName, type Dataset } from '../src';
import { runOnnx } from './onnx-runtime';
import { syntheticBinary, syntheticRegression } from './synthetic';

/** The holdout, with a few categories the model never saw. */
function holdoutWithStrangers(dataset: Dataset, holdout: Uint32Array): Dataset {
  const rows = selectRows(dataset, holdout);
  const city = getColumn(rows, 'city');
  if (city.kind !== 'categorical') throw new Error('city is categorical');
  const values = city.values.map((value, index) => (index % 97 === 0 ? 'never-seen' : index % 89 === 0 ? null : value));
  return createDataset([...rows.columns].map(([name, column]) => [name, name === 'city' ? categoricalColumn(values) : column] as const));
}

const cases: { trainer: BuiltinTrainerName; params: Record<string, unknown> }[] = [
  { trainer: 'gbdt-classifier', params: { rounds: 60, numLeaves: 31 } },
  { trainer: 'logistic-regression', params: {} },
  { trainer: 'gbdt-regressor', params: { rounds: 60 } },
  { trainer: 'linear-regression', params: {} },
];

describe('ONNX export', () => {
  for (const { trainer, params } of cases) {
    describe(trainer, () => {
      it('computes in ONNX Runtime what the in-process model computes, to 1e-5', async () => {
        const binary = trainer === 'gbdt-classifier' || trainer === 'logistic-regression';
        const dataset = binary ? syntheticBinary({ rows: 8_000, seed: 21, missingRate: 0.1 }) : syntheticRegression({ rows: 8_000, seed: 21, missingRate: 0.1 });
        const features = binary ? ['x1', 'x2', 'x3', 'city'] : ['x1', 'x2', 'city'];
        const split = { kind: 'random', holdoutFraction: 0.25, seed: 9 } as const;
        const outcome = trainAndEvaluate({ dataset, label: binary ? 'label' : 'target', features, split, trainer, params, seed: 1 });
        const holdout = holdoutWithStrangers(dataset, splitRows(dataset, split).holdout);
        const all = Uint32Array.from({ length: holdout.rowCount }, (_, index) => index);
        const outputs = await runOnnx(outcome.onnx, holdout, features, all);
        const expected = outcome.model.predict(encodeFeatures(holdout, { features: outcome.model.features }));
        if (binary) {
          assert.deepEqual(Object.keys(outputs).sort(), ['label', 'probabilities']);
          assert.deepEqual(outputs.probabilities!.dims, [holdout.rowCount, 2]);
          const probabilities = outputs.probabilities!.data as Float32Array;
          const labels = outputs.label!.data as BigInt64Array;
          for (let i = 0; i < holdout.rowCount; i += 1) {
            assert.ok(Math.abs(probabilities[2 * i + 1]! - expected[i]!) <= 1e-5, `row ${i}: ${probabilities[2 * i + 1]} vs ${expected[i]}`);
            assert.ok(Math.abs(probabilities[2 * i]! - (1 - expected[i]!)) <= 1e-5);
            if (Math.abs(expected[i]! - 0.5) > 1e-5) assert.equal(labels[i], expected[i]! > 0.5 ? 1n : 0n);
          }
        } else {
          assert.deepEqual(Object.keys(outputs), ['prediction']);
          const predictions = outputs.prediction!.data as Float32Array;
          for (let i = 0; i < holdout.rowCount; i += 1) {
            const tolerance = 1e-5 * Math.max(1, Math.abs(expected[i]!));
            assert.ok(Math.abs(predictions[i]! - expected[i]!) <= tolerance, `row ${i}: ${predictions[i]} vs ${expected[i]}`);
          }
        }
      });
    });
  }
});
