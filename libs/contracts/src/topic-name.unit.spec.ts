import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ContractError } from './contract-error';
import { assertValidTopicName, isValidTopicName, parseTopicName } from './topic-name';

describe('topic names', () => {
  describe('when a name follows loopline.<service>.<stream>.v<major>', () => {
    it('splits it into its parts', () => {
      assert.deepEqual(parseTopicName('loopline.feature-store.feature-views.v1'), {
        namespace: 'feature-store',
        stream: 'feature-views',
        majorVersion: 1,
      });
      assert.deepEqual(parseTopicName('loopline.registry.model-versions.v12')?.majorVersion, 12);
    });
  });

  describe('when a name breaks the convention', () => {
    const invalid = [
      ['no prefix', 'registry.model-versions.v1'],
      ['another prefix', 'acme.registry.model-versions.v1'],
      ['no version', 'loopline.registry.model-versions'],
      ['version zero', 'loopline.registry.model-versions.v0'],
      ['leading zero in version', 'loopline.registry.model-versions.v01'],
      ['minor version', 'loopline.registry.model-versions.v1.2'],
      ['missing stream', 'loopline.registry.v1'],
      ['extra segment', 'loopline.registry.models.versions.v1'],
      ['upper case', 'loopline.Registry.model-versions.v1'],
      ['underscore', 'loopline.registry.model_versions.v1'],
      ['leading hyphen', 'loopline.registry.-versions.v1'],
      ['trailing hyphen', 'loopline.registry.versions-.v1'],
      ['double hyphen', 'loopline.registry.model--versions.v1'],
      ['empty', ''],
      ['longer than Kafka allows', `loopline.registry.${'a'.repeat(240)}.v1`],
    ] as const;
    for (const [why, name] of invalid) {
      it(`rejects ${why}`, () => {
        assert.equal(isValidTopicName(name), false);
        assert.throws(
          () => assertValidTopicName(name),
          (error: unknown) => error instanceof ContractError && error.code === 'INVALID_TOPIC_NAME',
        );
      });
    }
  });
});
