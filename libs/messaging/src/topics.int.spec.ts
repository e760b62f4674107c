// Real: Kafka broker (auto topic creation off) and the kafkajs admin client.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Admin, ConfigResourceTypes } from 'kafkajs';
import { testInfra, uniqueName } from '@loopline/testing';
import { testKafka } from '../test/kafka-test-kit';
import { ensureTopics } from './topics';

describe('ensureTopics', () => {
  let admin: Admin;

  before(async () => {
    admin = testKafka(testInfra().kafkaBrokers, 'topics-spec').admin();
    await admin.connect();
  });

  after(() => admin.disconnect());

  async function partitionsOf(topic: string): Promise<number> {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return topics[0]?.partitions.length ?? 0;
  }

  describe('when the topics do not exist', () => {
    it('creates them and their dead-letter topics with the partitions and configs asked for', async () => {
      const topic = uniqueName('ensure');
      const result = await ensureTopics(admin, [{ topic, numPartitions: 3, replicationFactor: 1, configs: { 'retention.ms': '3600000' }, withDeadLetterTopic: true }]);

      assert.deepEqual(result, { created: [topic, `${topic}.dlq`], existing: [], partitionMismatches: [] });
      assert.equal(await partitionsOf(topic), 3);
      assert.equal(await partitionsOf(`${topic}.dlq`), 3);
      const configs = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['retention.ms'] }] });
      assert.equal(configs.resources[0]?.configEntries[0]?.configValue, '3600000');
    });
  });

  describe('when run a second time', () => {
    it('creates nothing and leaves the topics as they are', async () => {
      const topic = uniqueName('ensure_twice');
      const specs = [{ topic, numPartitions: 2, replicationFactor: 1, withDeadLetterTopic: true }];
      await ensureTopics(admin, specs);
      const before = (await admin.listTopics()).filter((name) => name.startsWith(topic)).sort();

      const second = await ensureTopics(admin, specs);

      assert.deepEqual(second, { created: [], existing: [topic, `${topic}.dlq`], partitionMismatches: [] });
      assert.deepEqual((await admin.listTopics()).filter((name) => name.startsWith(topic)).sort(), before);
      assert.equal(await partitionsOf(topic), 2);
    });
  });

  describe('when an existing topic has another partition count', () => {
    it('leaves it alone and reports the mismatch', async () => {
      const topic = uniqueName('ensure_mismatch');
      await ensureTopics(admin, [{ topic, numPartitions: 1, replicationFactor: 1 }]);

      const result = await ensureTopics(admin, [{ topic, numPartitions: 3, replicationFactor: 1 }]);

      assert.deepEqual(result.partitionMismatches, [{ topic, wanted: 3, actual: 1 }]);
      assert.equal(await partitionsOf(topic), 1);
    });
  });
});
