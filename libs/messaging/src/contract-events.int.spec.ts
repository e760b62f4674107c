// Real: Kafka broker, kafkajs, and the @loopline/contracts CloudEvents codec on both ends.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { DatasetVersionCreatedSchema, decodeEvent, getTopic, isEvent, ModelVersionAliasSetSchema, type TopicName } from '@loopline/contracts';
import { eventually, testInfra, uniqueName } from '@loopline/testing';
import type { Admin, Kafka } from 'kafkajs';
import { fastGroup, headerText, recordTopic, testKafka, testLogger } from '../test/kafka-test-kit';
import { contractMessage, subscribeToEvents } from './contract-events';
import { deadLetterHeaders } from './dead-letter';
import { createEventProducer, type EventProducer } from './event-producer';
import type { OutgoingMessage } from './message-types';
import { subscribe, type Subscription } from './subscription';
import { ensureTopics } from './topics';

const modelVersionsTopic = 'loopline.registry.model-versions.v1' satisfies TopicName;

function aliasSet(modelName: string, modelVersion: number): OutgoingMessage {
  return contractMessage({
    topic: modelVersionsTopic,
    key: modelName,
    id: randomUUID(),
    source: '/loopline/registry',
    time: new Date('2025-03-04T05:06:07.000Z'),
    subject: `${modelName}/${modelVersion}`,
    message: create(ModelVersionAliasSetSchema, { modelName, alias: 'champion', modelVersion, previousModelVersion: modelVersion - 1, actor: 'user:alice', reason: 'spec' }),
  });
}

describe('contract events over Kafka', () => {
  let kafka: Kafka;
  let admin: Admin;
  let producer: EventProducer;
  const running: Subscription[] = [];

  before(async () => {
    kafka = testKafka(testInfra().kafkaBrokers, 'contracts-spec');
    admin = kafka.admin();
    await admin.connect();
    producer = createEventProducer(kafka, { logger: testLogger });
  });

  after(async () => {
    await Promise.all(running.map((subscription) => subscription.stop()));
    await producer.disconnect();
    await admin.disconnect();
  });

  describe('when a registry event is published to its registered topic', () => {
    it('reaches the handler decoded, with its CloudEvents attributes and typed message', async () => {
      // The registered topic is shared by every spec of the run: this test reads it from the
      // beginning but only looks at its own model, and dead-letters foreign records to its own topic.
      const ownDeadLetters = uniqueName('contracts_foreign_dlq');
      await ensureTopics(admin, [
        { topic: modelVersionsTopic, numPartitions: getTopic(modelVersionsTopic).partitions, replicationFactor: 1 },
        { topic: ownDeadLetters, numPartitions: 1, replicationFactor: 1 },
      ]);
      const modelName = uniqueName('churn');
      const received: string[] = [];
      let aliasEvent: { modelName: string; alias: string; modelVersion: number; previous: number; actor: string } | undefined;
      let envelope: { id: string; source: string; subject: string | undefined; time: string } | undefined;
      running.push(
        await subscribeToEvents(kafka, {
          groupId: uniqueName('contracts-group'),
          topics: [modelVersionsTopic],
          fromBeginning: true,
          handle: async (event) => {
            if (event.key !== modelName) return;
            received.push(event.type);
            envelope = { id: event.id, source: event.source, subject: event.subject, time: event.time.toISOString() };
            // The handler's parameter is the union of this topic's events: narrowing reaches the typed message.
            if (isEvent(event, ModelVersionAliasSetSchema)) {
              const { modelName: name, alias, modelVersion, previousModelVersion, actor } = event.message;
              aliasEvent = { modelName: name, alias, modelVersion, previous: previousModelVersion, actor };
            }
          },
          deadLetterTopic: ownDeadLetters,
          handlerTimeoutMs: 2_000,
          group: fastGroup,
          logger: testLogger,
        }),
      );

      const published = aliasSet(modelName, 4);
      await producer.publish([published]);

      await eventually(() => received.length > 0, { timeoutMs: 15_000, what: 'the alias event handled' });
      assert.deepEqual(received, ['loopline.registry.v1.ModelVersionAliasSet']);
      assert.deepEqual(envelope, { id: published.headers?.ce_id, source: '/loopline/registry', subject: `${modelName}/4`, time: '2025-03-04T05:06:07.000Z' });
      assert.deepEqual(aliasEvent, { modelName, alias: 'champion', modelVersion: 4, previous: 3, actor: 'user:alice' });
    });
  });

  describe('when records break the contract', () => {
    it('dead-letters them with the contract error code and handles the valid event after them', async () => {
      // A topic of this test's own, read with the registry topic's contract.
      const topic = uniqueName('contracts_poison');
      await ensureTopics(admin, [{ topic, numPartitions: 1, replicationFactor: 1, withDeadLetterTopic: true }]);
      const handled: number[] = [];
      running.push(
        await subscribe(kafka, {
          groupId: uniqueName('contracts-poison-group'),
          topics: [topic],
          fromBeginning: true,
          parse: (record) => decodeEvent(record, modelVersionsTopic),
          handle: async (event) => {
            if (isEvent(event, ModelVersionAliasSetSchema)) handled.push(event.message.modelVersion);
          },
          handlerTimeoutMs: 2_000,
          group: fastGroup,
          logger: testLogger,
        }),
      );

      const valid = aliasSet('fraud', 2);
      const unknownField = { ...valid, key: 'unknown-field', value: Buffer.from(JSON.stringify({ modelName: 'fraud', championOf: 'x' })) };
      const { ce_type: _dropped, ...headersWithoutType } = valid.headers ?? {};
      const missingType = { ...valid, key: 'missing-type', headers: headersWithoutType };
      // A valid event of another topic's contract.
      const wrongTopic = contractMessage({
        topic: 'loopline.ingestion.dataset-versions.v1',
        key: 'wrong-topic',
        id: randomUUID(),
        source: '/loopline/ingestion',
        time: new Date(),
        message: create(DatasetVersionCreatedSchema, { sourceName: 'flights' }),
      });
      await producer.publish([unknownField, missingType, wrongTopic, aliasSet('fraud', 3)].map((message) => ({ ...message, topic })));

      await eventually(() => handled.includes(3), { timeoutMs: 15_000, what: 'the valid event after the poison handled' });
      const deadLetters = await recordTopic(kafka, `${topic}.dlq`, uniqueName('dlq-reader'));
      try {
        await eventually(() => deadLetters.records.length === 3, { timeoutMs: 10_000, what: 'three dead letters' });
      } finally {
        await deadLetters.stop();
      }
      assert.deepEqual(
        deadLetters.records.map((record) => [record.key?.toString(), headerText(record, deadLetterHeaders.reason), headerText(record, deadLetterHeaders.errorCode)]),
        [
          ['unknown-field', 'unparseable', 'INVALID_PAYLOAD'],
          ['missing-type', 'unparseable', 'MISSING_HEADER'],
          ['wrong-topic', 'unparseable', 'WRONG_TOPIC'],
        ],
      );
      assert.deepEqual(handled, [3]);
    });
  });
});
