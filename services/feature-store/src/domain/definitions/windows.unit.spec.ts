import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FeatureDefinition } from './definitions';
import { hasWindows, longestWindowSeconds, windowInputs, type RecordedVersion } from './windows';

const feature = (name: string, windowSeconds: number | null): FeatureDefinition => ({
  name,
  expression: 'delay',
  type: 'double',
  aggregation: windowSeconds === null ? null : { function: 'mean', windowSeconds },
  description: '',
});

const recorded = (datasetVersionId: string, sequence: number, startMs: number, endMs: number): RecordedVersion => ({ datasetVersionId, sequence, eventTimeRange: { startMs, endMs } });

describe('Window inputs', () => {
  describe('when a view has windowed aggregations', () => {
    it('knows its longest window, and that a view of row-level features has none', () => {
      assert.equal(longestWindowSeconds({ features: [feature('a', 3_600), feature('b', 86_400), feature('c', null)] }), 86_400);
      assert.equal(hasWindows({ features: [feature('c', null)] }), false);
    });
  });

  describe('when a new dataset version is materialized', () => {
    it('comes last in the order and reads the earlier versions whose rows can fall in its windows', () => {
      const order = [recorded('old', 1, 0, 1_000), recorded('near', 2, 5_000, 9_000), recorded('later', 3, 20_000, 30_000)];
      const inputs = windowInputs(order, 'new', { startMs: 10_000, endMs: 12_000 }, 4_000);
      assert.equal(inputs.sequence, 4);
      // [10 000 − 4 000, 12 000): "old" ends before it; "later" (materialized earlier, events later) starts after it.
      assert.deepEqual(
        inputs.earlier.map((version) => version.datasetVersionId),
        ['near'],
      );
      assert.deepEqual(inputs.readRange, { startMs: 6_000, endMs: 12_000 });
    });

    it('starts the order at 1 and reads nothing when it is the first', () => {
      assert.deepEqual(windowInputs([], 'first', { startMs: 0, endMs: 10 }, 1_000), { sequence: 1, earlier: [], readRange: null });
    });
  });

  describe('when a dataset version is materialized again', () => {
    it('keeps its place and reads only the versions before it, not those materialized since', () => {
      const order = [recorded('v1', 1, 0, 1_000), recorded('v2', 2, 1_000, 2_000), recorded('v3', 3, 500, 1_500)];
      const inputs = windowInputs(order, 'v2', { startMs: 1_000, endMs: 2_000 }, 1_000);
      assert.equal(inputs.sequence, 2);
      assert.deepEqual(
        inputs.earlier.map((version) => version.datasetVersionId),
        ['v1'],
      );
    });
  });

  describe('when the version has no rows', () => {
    it('reads no earlier version', () => {
      assert.deepEqual(windowInputs([recorded('v1', 1, 0, 1_000)], 'empty', null, 1_000), { sequence: 2, earlier: [], readRange: null });
    });
  });
});
