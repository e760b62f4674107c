import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { ContractError } from './contract-error';
import { DatasetVersionCreatedSchema, DriftDetectedSchema, ModelVersionRegisteredSchema, RunTaskSchema } from './gen';
import { parseTopicName } from './topic-name';
import { findEventSchema, findEventType, findTopic, getTopic, indexTopics, topics, type TopicDefinition } from './topics';

describe('topic registry', () => {
  describe('every registered topic', () => {
    for (const topic of topics) {
      it(`${topic.name} has a valid name, events and partitions`, () => {
        const parts = parseTopicName(topic.name);
        assert.ok(parts, `${topic.name} breaks loopline.<service>.<stream>.v<major>`);
        // Topics a service publishes to carry its name; only ingress topics others write to may not.
        if (topic.ownerRole === 'producer') assert.equal(parts.namespace, topic.owner);
        assert.ok(topic.events.length > 0);
        assert.ok(Number.isInteger(topic.partitions) && topic.partitions >= 1);
        assert.notEqual(topic.key.description, '');
        // A topic's major version is the proto package's: loopline.<pkg>.v1 events on a .v1 topic.
        for (const schema of topic.events) assert.match(schema.typeName, new RegExp(`^loopline\\.[a-z]+\\.v${parts.majorVersion}\\.`));
      });
    }

    it('carries event types no other topic carries', () => {
      const all = topics.flatMap((topic) => topic.events.map((schema) => schema.typeName));
      assert.deepEqual(all.filter((type, i) => all.indexOf(type) !== i), []);
    });
  });

  describe('indexTopics', () => {
    const topic = (name: string, events: TopicDefinition['events']): TopicDefinition => ({
      name,
      owner: 'ingestion',
      ownerRole: 'producer',
      description: 'test',
      key: { description: 'k', example: 'k' },
      events,
      partitions: 1,
    });

    it('refuses an event type on two topics', () => {
      assert.throws(
        () => indexTopics([topic('loopline.ingestion.a.v1', [RunTaskSchema]), topic('loopline.ingestion.b.v1', [RunTaskSchema])]),
        /loopline\.orchestration\.v1\.RunTask is registered on both loopline\.ingestion\.a\.v1 and loopline\.ingestion\.b\.v1/,
      );
    });

    it('refuses a topic registered twice and an invalid name', () => {
      assert.throws(() => indexTopics([topic('loopline.ingestion.a.v1', []), topic('loopline.ingestion.a.v1', [])]), /registered twice/);
      assert.throws(
        () => indexTopics([topic('ingestion-a', [])]),
        (error: unknown) => error instanceof ContractError && error.code === 'INVALID_TOPIC_NAME',
      );
    });
  });

  describe('lookups', () => {
    it('finds a topic by name', () => {
      assert.equal(findTopic('loopline.registry.model-versions.v1')?.owner, 'registry');
      assert.equal(findTopic('loopline.registry.models.v1'), undefined);
      assert.throws(
        () => getTopic('loopline.registry.models.v1'),
        (error: unknown) => error instanceof ContractError && error.code === 'UNKNOWN_TOPIC',
      );
    });

    it('finds an event schema by CloudEvents type, the proto full name', () => {
      assert.equal(findEventSchema('loopline.registry.v1.ModelVersionRegistered'), ModelVersionRegisteredSchema);
      assert.equal(findEventType('loopline.monitoring.v1.DriftDetected')?.topic.name, 'loopline.monitoring.alerts.v1');
      assert.equal(findEventType('loopline.ingestion.v1.DatasetVersionCreated')?.schema, DatasetVersionCreatedSchema);
      assert.equal(findEventSchema('ModelVersionRegistered'), undefined);
      assert.equal(create(DriftDetectedSchema).$typeName, DriftDetectedSchema.typeName);
    });
  });
});
