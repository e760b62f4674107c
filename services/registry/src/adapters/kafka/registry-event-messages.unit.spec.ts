import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeEvent, findEventType } from '@loopline/contracts';
import type { NewEvent } from '@loopline/eventsourcing';
import type { GateEvidence, RegisteredModelEvent } from '../../domain/registered-model/registered-model';
import { contractMessage, modelVersionsTopic, outboxMessages } from './registry-event-messages';

const at = '2026-01-10T12:00:00.000Z';
const evidence: GateEvidence = {
  policyName: 'gate',
  passed: false,
  candidateVersion: 3,
  baselineAlias: 'champion',
  baselineVersion: 2,
  checks: [{ metric: 'auc', kind: 'MIN_IMPROVEMENT', comparator: 'AT_LEAST', candidateValue: null, baselineValue: 0.7, threshold: 0.71, passed: false, description: 'auc >= champion.auc + 0.01' }],
};
const events: RegisteredModelEvent[] = [
  { type: 'RegisteredModelCreated', data: { modelName: 'm', description: 'd', owner: 'team:x', tags: { a: 'b' }, actor: 'user:a', createdAt: at } },
  {
    type: 'ModelVersionRegistered',
    data: {
      modelName: 'm',
      version: 1,
      artifact: { sha256: 'a'.repeat(64), sizeBytes: 42, uri: 'artifact://registry/sha256/' + 'a'.repeat(64) },
      signature: { inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }] },
      metrics: { auc: 0.7 },
      params: { c: '1' },
      tags: {},
      description: '',
      lineage: { trainingRunId: 'r', pipelineRunId: '', experimentName: '', trainingSetId: '', datasetVersionIds: ['d1'], featureViews: [{ viewName: 'v', viewVersion: 2 }], trainerName: '', trainerVersion: '', codeCommit: 'abc' },
      referenceProfile: { sha256: 'b'.repeat(64), sizeBytes: 10, uri: 'artifact://registry/sha256/' + 'b'.repeat(64) },
      idempotencyKey: null,
      actor: 'user:a',
      registeredAt: at,
    },
  },
  { type: 'ModelVersionAliasSet', data: { modelName: 'm', alias: 'champion', version: 1, previousVersion: null, actor: 'user:a', reason: 'r', evidence: { ...evidence, passed: true }, setAt: at } },
  { type: 'ModelVersionAliasRemoved', data: { modelName: 'm', alias: 'champion', version: 1, actor: 'user:a', reason: 'r', removedAt: at } },
  { type: 'ModelVersionArchived', data: { modelName: 'm', version: 1, actor: 'user:a', reason: 'r', archivedAt: at } },
  {
    type: 'PromotionPolicySet',
    data: {
      modelName: 'm',
      policy: { name: 'gate', baselineAlias: 'champion', thresholds: [{ metric: 'auc', direction: 'HIGHER_IS_BETTER', lowerBound: 0.7, upperBound: null, minImprovement: 0.01, maxDegradation: null }] },
      actor: 'user:a',
      setAt: at,
    },
  },
  { type: 'PromotionGateEvaluated', data: { modelName: 'm', version: 3, alias: 'champion', evidence, actor: 'user:a', evaluatedAt: at } },
];
const appended: NewEvent<RegisteredModelEvent>[] = events.map((event, index) => ({
  ...event,
  eventId: `00000000-0000-4000-8000-00000000000${index}`,
  metadata: { time: at, actor: 'user:a', correlationId: 'c' },
}));

describe('registry event messages', () => {
  it('maps every domain event to its contract message', () => {
    assert.deepEqual(
      events.map((event) => contractMessage(event).$typeName),
      events.map((event) => `loopline.registry.v1.${event.type}`),
    );
  });

  it('publishes exactly the event types the topic registry lists on the registry topic, keyed by model', () => {
    const messages = outboxMessages(appended);
    const listed = events.filter((event) => findEventType(`loopline.registry.v1.${event.type}`)?.topic.name === modelVersionsTopic);
    assert.equal(messages.length, listed.length);
    assert.ok(listed.length >= 5, 'the five original registry events are always published');
    for (const message of messages) {
      assert.equal(message.topic, modelVersionsTopic);
      const decoded = decodeEvent({ key: message.key, value: message.value as Buffer, headers: message.headers }, modelVersionsTopic);
      assert.equal(decoded.key, 'm');
      assert.equal(decoded.id, message.eventId);
      assert.equal(decoded.time.toISOString(), at);
    }
  });

  it('carries artifact, signature, lineage with params, and the profile digest in ModelVersionRegistered', () => {
    const [message] = outboxMessages([appended[1]!]);
    const decoded = decodeEvent({ key: message!.key, value: message!.value as Buffer, headers: message!.headers }, modelVersionsTopic);
    assert.equal(decoded.subject, 'm/1');
    const registered = decoded.message as unknown as {
      artifact: { sizeBytes: bigint; sha256: string };
      signature: { inputs: { shape: bigint[] }[] };
      lineage: { params: Record<string, string>; codeCommit: string; featureViews: { viewVersion: number }[] };
      referenceProfileSha256: string;
    };
    assert.equal(registered.artifact.sizeBytes, 42n);
    assert.deepEqual(registered.signature.inputs[0]?.shape, [-1n, 3n]);
    assert.deepEqual([registered.lineage.params, registered.lineage.codeCommit, registered.lineage.featureViews[0]?.viewVersion], [{ c: '1' }, 'abc', 2]);
    assert.equal(registered.referenceProfileSha256, 'b'.repeat(64));
  });

  it('puts the gate evidence on an alias move, a missing value as NaN', () => {
    const message = contractMessage(events[2]!) as unknown as { gateEvidence: { passed: boolean; baselineModelVersion: number; checks: { candidateValue: number; baselineValue?: number }[] } };
    assert.equal(message.gateEvidence.passed, true);
    assert.equal(message.gateEvidence.baselineModelVersion, 2);
    assert.ok(Number.isNaN(message.gateEvidence.checks[0]?.candidateValue));
    assert.equal(message.gateEvidence.checks[0]?.baselineValue, 0.7);
  });
});
