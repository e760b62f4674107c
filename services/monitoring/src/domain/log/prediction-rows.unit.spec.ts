import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classText, labelRow, predictionRows, splitPredictionRef, type LoggedPrediction } from './prediction-rows';

const base: LoggedPrediction = {
  predictionId: 'p1',
  requestId: 'r1',
  modelName: 'flight-delay',
  modelVersion: 3,
  alias: 'champion',
  trafficRole: 'primary',
  inputs: {},
  outputs: {},
  entityKeys: {},
  entityKey: '',
  latencyMs: 2.5,
  predictedAtMs: Date.UTC(2026, 0, 1, 12, 0, 0, 250),
};

describe('predictionRows', () => {
  describe('when a prediction carries a batch', () => {
    it('stores one row per predicted row with inputs split by type and outputs reduced', () => {
      const rows = predictionRows({
        ...base,
        inputs: { distance: [[606], [null]], origin: [['ATL'], ['ORD']], weekday: [[true], [false]] },
        outputs: { label: [1, 0], probabilities: [[0.2, 0.8], [0.9, 0.1]] },
      });
      assert.equal(rows.length, 2);
      assert.deepEqual(rows[0]!.num_inputs, { distance: 606, weekday: 1 });
      assert.deepEqual(rows[0]!.str_inputs, { origin: 'ATL' });
      assert.deepEqual(rows[1]!.null_inputs, ['distance']);
      assert.equal(rows[0]!.predicted_label, '1');
      assert.equal(rows[0]!.predicted_score, 0.8);
      assert.equal(rows[1]!.predicted_score, 0.1);
      assert.equal(rows[1]!.row_index, 1);
      assert.equal(rows[0]!.predicted_at, '2026-01-01 12:00:00.250');
    });
  });

  describe('when an input is a wide tensor', () => {
    it('names each column name[i]', () => {
      const [row] = predictionRows({ ...base, inputs: { features: [[0.1, 0.2, 0.3]] }, outputs: { prediction: [[12.5]] } });
      assert.deepEqual(row!.num_inputs, { 'features[0]': 0.1, 'features[1]': 0.2, 'features[2]': 0.3 });
      assert.equal(row!.predicted_value, 12.5);
      assert.equal(row!.predicted_label, null);
    });
  });
});

describe('labels', () => {
  it('canonicalises classes so true, "true" and 1 compare equal', () => {
    assert.equal(classText(true), '1');
    assert.equal(classText('TRUE'), '1');
    assert.equal(classText(1), '1');
    assert.equal(classText('false'), '0');
    assert.equal(classText('delayed'), 'delayed');
  });

  it('addresses one row of a batch prediction as <id>:<row>', () => {
    assert.deepEqual(splitPredictionRef('abc:3'), { predictionId: 'abc', rowIndex: 3 });
    assert.deepEqual(splitPredictionRef('abc'), { predictionId: 'abc', rowIndex: 0 });
    const row = labelRow({ labelId: 'l', predictionId: 'abc:2', modelName: '', entityKey: 'flight=F1', targetName: 'delayed', value: 37.5, eventTimeMs: 0, receivedAtMs: 1 });
    assert.equal(row.row_index, 2);
    assert.equal(row.value_number, 37.5);
    // A label tied to a prediction id is never also joined by entity.
    assert.equal(row.entity_key, '');
  });
});
