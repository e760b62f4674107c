import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { entityKey, labelKey } from './keys';

describe('Kafka keys', () => {
  describe('entityKey', () => {
    it('sorts by name and URI-encodes, so equal key sets give equal keys', () => {
      assert.equal(entityKey({ origin: 'ATL', flight: 'AA100 2001&03' }), 'flight=AA100%202001%2603&origin=ATL');
      assert.equal(entityKey({ b: '2', a: '1' }), entityKey({ a: '1', b: '2' }));
    });
  });

  describe('labelKey', () => {
    it('is the prediction id when there is one, the entity key otherwise', () => {
      assert.equal(labelKey({ predictionId: 'p-1', entityKeys: { flight: 'AA100' } }), 'p-1');
      assert.equal(labelKey({ predictionId: '', entityKeys: { flight: 'AA100' } }), 'flight=AA100');
    });
  });
});
