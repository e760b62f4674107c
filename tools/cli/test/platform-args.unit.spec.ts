// The pure parts of the platform commands: how command-line text becomes requests.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evidenceSummary, type AlertJson } from '../src/alerts-command';
import { parseTimeArgument } from '../src/cli-output';
import { parseModelReference } from '../src/models-command';
import { featureValue, inputValues, tensorInput } from '../src/predict-command';
import { cliActor, serviceUrl, UsageError } from '../src/service-client';

describe('platform command arguments', () => {
  describe('model references', () => {
    it('reads a name, a version or an alias', () => {
      assert.deepEqual(parseModelReference('flight-delay'), { name: 'flight-delay' });
      assert.deepEqual(parseModelReference('flight-delay:3'), { name: 'flight-delay', version: 3 });
      assert.deepEqual(parseModelReference('flight-delay:champion'), { name: 'flight-delay', alias: 'champion' });
      assert.throws(() => parseModelReference('flight-delay:'), UsageError);
    });
  });

  describe('times', () => {
    it('accepts ISO-8601 with or without a zone (UTC) and bare dates, and refuses anything else', () => {
      assert.equal(parseTimeArgument('2026-11-28T10:00:00Z', '--at'), '2026-11-28T10:00:00.000Z');
      assert.equal(parseTimeArgument('2026-11-28T10:00', '--at'), '2026-11-28T10:00:00.000Z');
      assert.equal(parseTimeArgument('2026-11-28 12:30:00+02:00', '--at'), '2026-11-28T10:30:00.000Z');
      assert.equal(parseTimeArgument('2026-11-28', '--at'), '2026-11-28T00:00:00.000Z');
      assert.throws(() => parseTimeArgument('1', '--at'), /--at "1": expected an ISO-8601 time/);
      assert.throws(() => parseTimeArgument('2026-13-45', '--at'), /is not a valid time/);
    });
  });

  describe('OIP inputs', () => {
    it('types values by the signature and puts them in its shape, the batch taking the rows', () => {
      assert.deepEqual(tensorInput({ name: 'distance', datatype: 'FP32', shape: [-1, 1] }, '606'), { name: 'distance', datatype: 'FP32', shape: [1, 1], data: [606] });
      assert.deepEqual(tensorInput({ name: 'origin', datatype: 'BYTES', shape: [-1, 1] }, 'ATL,ORD'), { name: 'origin', datatype: 'BYTES', shape: [2, 1], data: ['ATL', 'ORD'] });
      assert.deepEqual(tensorInput({ name: 'features', datatype: 'FP32', shape: [-1, 3] }, '[[1,2,3],[4,5,6]]').shape, [2, 3]);
      assert.deepEqual(tensorInput({ name: 'flag', datatype: 'BOOL', shape: [1] }, 'true').data, [true]);
      assert.throws(() => tensorInput({ name: 'features', datatype: 'FP32', shape: [-1, 3] }, '1,2'), /takes a multiple of 3 values \(shape \[\?,3\]\), got 2/);
      assert.throws(() => tensorInput({ name: 'count', datatype: 'INT64', shape: [-1, 1] }, '1.5'), /is not a whole number/);
      assert.throws(() => tensorInput({ name: 'x', datatype: 'FP32', shape: [2] }, '1'), /takes 2 values/);
      assert.throws(() => inputValues('[1,2'), /is not a JSON array/);
    });

    it('reads request-time features as numbers and booleans when they are', () => {
      assert.equal(featureValue('8'), 8);
      assert.equal(featureValue('true'), true);
      assert.equal(featureValue('ATL'), 'ATL');
    });
  });

  describe('service addresses', () => {
    it('takes LOOPLINE_<SERVICE>_URL, else the host and port `loopline up` uses', () => {
      assert.equal(serviceUrl('registry', { LOOPLINE_REGISTRY_URL: 'http://models.internal:80/' }), 'http://models.internal:80');
      assert.equal(serviceUrl('feature-store', { LOOPLINE_FEATURE_STORE_HTTP_PORT: '17002' }), 'http://127.0.0.1:17002');
      assert.equal(serviceUrl('monitoring', { LOOPLINE_HOST: '0.0.0.0' }), 'http://127.0.0.1:7007');
      assert.equal(cliActor({ USER: 'alice' }), 'user:alice');
      assert.equal(cliActor({ LOOPLINE_ACTOR: 'service:ci', USER: 'alice' }), 'service:ci');
    });
  });

  describe('alert evidence', () => {
    const alert = (evidence: Record<string, unknown>): AlertJson => ({
      alertId: 'a1',
      kind: 'drift',
      modelName: 'flight-delay',
      modelVersion: 3,
      monitorName: 'm',
      severity: 'warning',
      status: 'open',
      evidence,
      detectedAt: '2026-11-28T10:00:00Z',
    });

    it('names the drifted features, or the metric against its threshold', () => {
      const drift = alert({
        driftedFeatureShare: 0.5,
        sampleSize: '5000',
        features: [
          { featureName: 'distance', statistic: 'DRIFT_STATISTIC_PSI', value: 0.31, threshold: 0.2, drifted: true },
          { featureName: 'hour', statistic: 'DRIFT_STATISTIC_PSI', value: 0.01, threshold: 0.2, drifted: false },
        ],
      });
      assert.equal(evidenceSummary(drift), '50% drifted: distance psi 0.31 (n=5000)');
      const performance = alert({ metricName: 'roc_auc', value: 0.61, threshold: 0.65, direction: 'METRIC_DIRECTION_HIGHER_IS_BETTER', baselineValue: 0.71, sampleSize: 1200 });
      assert.equal(evidenceSummary(performance), 'roc_auc 0.61 < 0.65, at release 0.71 (n=1200)');
    });
  });
});
