import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '@loopline/errors';
import type { TensorSpec } from '../tensor/tensor';
import { bindFeatures, trainingColumnOf, type FeatureLookup } from './feature-binding';

const specs: TensorSpec[] = [
  { name: 'route_stats__mean_delay', datatype: 'FP32', shape: [-1, 1] },
  { name: 'route_stats__carrier', datatype: 'BYTES', shape: [-1, 1] },
  { name: 'hour', datatype: 'FP32', shape: [-1, 1] },
  { name: 'origin', datatype: 'BYTES', shape: [-1, 1] },
];
const byService: FeatureLookup = { query: { featureService: 'route_model' }, columns: new Map(), origin: 'feature service route_model' };

describe('bindFeatures', () => {
  it('names an online feature after its training-set column', () => {
    assert.equal(trainingColumnOf('route_stats:mean_delay'), 'route_stats__mean_delay');
  });

  describe('when every input has a source', () => {
    it('binds online values, request features and entity keys, one row each, and says where each came from', () => {
      const bound = bindFeatures({
        specs,
        lookup: byService,
        online: [
          { name: 'route_stats:mean_delay', value: 41.5, status: 'present' },
          { name: 'route_stats:carrier', value: 'DL', status: 'present' },
        ],
        entities: { origin: 'ATL', destination: 'ORD' },
        requestFeatures: { hour: 8 },
      });
      assert.deepEqual(
        bound.inputs.map((input) => [input.name, input.datatype, input.shape, Array.from(input.data as ArrayLike<unknown>)]),
        [
          ['route_stats__mean_delay', 'FP32', [1, 1], [41.5]],
          ['route_stats__carrier', 'BYTES', [1, 1], ['DL']],
          ['hour', 'FP32', [1, 1], [8]],
          ['origin', 'BYTES', [1, 1], ['ATL']],
        ],
      );
      assert.deepEqual(bound.features.hour, { value: 8, status: 'request' });
      assert.deepEqual(bound.features.route_stats__carrier, { value: 'DL', status: 'present' });
    });

    it('binds a missing float as NaN and a missing string as the empty string (the unknown category)', () => {
      const bound = bindFeatures({
        specs,
        lookup: byService,
        online: [
          { name: 'route_stats:mean_delay', value: null, status: 'not_found' },
          { name: 'route_stats:carrier', value: null, status: 'outside_ttl' },
        ],
        entities: { origin: 'ATL' },
        requestFeatures: { hour: 8 },
      });
      assert.ok(Number.isNaN((bound.inputs[0]!.data as Float32Array)[0]));
      assert.deepEqual(bound.inputs[1]!.data, ['']);
      assert.deepEqual(bound.features.route_stats__mean_delay, { value: null, status: 'missing' });
      assert.deepEqual(bound.features.route_stats__carrier, { value: null, status: 'outside_ttl' });
    });

    it('lets request features override online values, and uses the explicit column of a training-set lookup', () => {
      const bound = bindFeatures({
        specs: [{ name: 'delay_col', datatype: 'FP64', shape: [-1, 1] }],
        lookup: { query: { references: ['route_stats@v2:mean_delay'] }, columns: new Map([['route_stats:mean_delay', 'delay_col']]), origin: 'training set' },
        online: [{ name: 'route_stats:mean_delay', value: 3, status: 'present' }],
        entities: {},
        requestFeatures: {},
      });
      assert.deepEqual(Array.from(bound.inputs[0]!.data as Float64Array), [3]);
      const overridden = bindFeatures({
        specs: [{ name: 'delay_col', datatype: 'FP64', shape: [-1, 1] }],
        lookup: { query: { references: ['route_stats@v2:mean_delay'] }, columns: new Map([['route_stats:mean_delay', 'delay_col']]), origin: 'training set' },
        online: [{ name: 'route_stats:mean_delay', value: 3, status: 'present' }],
        entities: {},
        requestFeatures: { delay_col: 9 },
      });
      assert.deepEqual(Array.from(overridden.inputs[0]!.data as Float64Array), [9]);
      assert.deepEqual(overridden.features.delay_col, { value: 9, status: 'request' });
    });
  });

  describe('when inputs have no source', () => {
    it('refuses, naming every unbound input', () => {
      assert.throws(
        () => bindFeatures({ specs, lookup: byService, online: [], entities: {}, requestFeatures: {} }),
        (error: unknown) => error instanceof ValidationError && /'route_stats__mean_delay', 'route_stats__carrier', 'hour', 'origin'/.test(error.message),
      );
    });

    it('refuses a missing value for a datatype with no missing-value encoding', () => {
      assert.throws(
        () =>
          bindFeatures({
            specs: [{ name: 'route_stats__flights', datatype: 'INT64', shape: [-1, 1] }],
            lookup: byService,
            online: [{ name: 'route_stats:flights', value: null, status: 'not_found' }],
            entities: {},
            requestFeatures: {},
          }),
        (error: unknown) => error instanceof ValidationError && /route_stats__flights/.test(error.message),
      );
    });
  });
});
