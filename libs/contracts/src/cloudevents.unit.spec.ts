import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, type JsonObject, type Message } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { KafkaMessage, Message as KafkajsMessage } from 'kafkajs';
import {
  decodeEvent,
  encodeDynamicEvent,
  encodeEvent,
  isEvent,
  type EncodedKafkaMessage,
  type IncomingKafkaMessage,
} from './cloudevents';
import { ContractError, type ContractErrorCode } from './contract-error';
import {
  DatasetVersionCreatedSchema,
  GateComparator,
  HealthCheckRequestSchema,
  ModelFormat,
  ModelVersionAliasSetSchema,
  ModelVersionRegisteredSchema,
  PredictionLoggedSchema,
  TrafficRole,
} from './gen';

const time = new Date('2026-03-04T05:06:07.089Z');
const topic = 'loopline.registry.model-versions.v1';

function aliasSet() {
  return create(ModelVersionAliasSetSchema, {
    modelName: 'flight-delay',
    alias: 'champion',
    modelVersion: 3,
    previousModelVersion: 2,
    actor: 'service:orchestration',
    reason: 'passed promotion policy champion-gate',
    gateEvidence: {
      policyName: 'champion-gate',
      passed: true,
      checks: [
        {
          metricName: 'roc_auc',
          candidateValue: 0.74,
          baselineValue: 0.71,
          threshold: 0.715,
          comparator: GateComparator.AT_LEAST,
          passed: true,
          description: 'roc_auc >= champion.roc_auc + 0.005',
        },
      ],
    },
    setAt: timestampFromDate(time),
  });
}

function encodedAliasSet(): EncodedKafkaMessage {
  return encodeEvent({
    topic,
    key: 'flight-delay',
    id: 'evt-1',
    source: '/loopline/registry',
    time,
    subject: 'flight-delay/champion',
    message: aliasSet(),
    extensions: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
  });
}

// What a kafkajs consumer hands over: Buffers everywhere.
function asConsumed(encoded: EncodedKafkaMessage, headerOverrides: Record<string, string | undefined> = {}): IncomingKafkaMessage {
  const headers: Record<string, Buffer | undefined> = {};
  for (const [name, value] of Object.entries({ ...encoded.headers, ...headerOverrides })) {
    headers[name] = value === undefined ? undefined : Buffer.from(value);
  }
  return { key: Buffer.from(encoded.key), value: encoded.value, headers };
}

function rejectsWith(code: ContractErrorCode, fragment: string, action: () => unknown): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof ContractError, `expected a ContractError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, new RegExp(fragment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    return true;
  });
}

describe('CloudEvents codec', () => {
  describe('when encoding an event', () => {
    it('writes CloudEvents binary-mode headers and the proto3 JSON payload', () => {
      const encoded = encodedAliasSet();
      assert.equal(encoded.key, 'flight-delay');
      assert.deepEqual(encoded.headers, {
        'content-type': 'application/json',
        ce_specversion: '1.0',
        ce_id: 'evt-1',
        ce_type: 'loopline.registry.v1.ModelVersionAliasSet',
        ce_source: '/loopline/registry',
        ce_time: '2026-03-04T05:06:07.089Z',
        ce_subject: 'flight-delay/champion',
        ce_traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      });
      assert.equal(encoded.timestamp, String(time.getTime()));
      const payload = JSON.parse(encoded.value.toString('utf8')) as JsonObject;
      assert.equal(payload['modelName'], 'flight-delay');
      assert.equal(payload['setAt'], '2026-03-04T05:06:07.089Z');
      assert.deepEqual(payload['gateEvidence'], {
        policyName: 'champion-gate',
        passed: true,
        checks: [
          {
            metricName: 'roc_auc',
            candidateValue: 0.74,
            baselineValue: 0.71,
            threshold: 0.715,
            comparator: 'GATE_COMPARATOR_AT_LEAST',
            passed: true,
            description: 'roc_auc >= champion.roc_auc + 0.005',
          },
        ],
      });
    });

    it('encodes int64 as strings and Struct as plain JSON', () => {
      const encoded = encodeEvent({
        topic: 'loopline.serving.predictions.v1',
        key: 'flight-delay',
        id: 'p-1',
        source: '/loopline/serving',
        time,
        message: create(PredictionLoggedSchema, {
          predictionId: 'p-1',
          modelName: 'flight-delay',
          modelVersion: 3,
          trafficRole: TrafficRole.PRIMARY,
          inputs: { distance: [1234], origin: ['ATL'] },
          outputs: { probability: [0.83] },
          latencyMs: 4.2,
          predictedAt: timestampFromDate(time),
        }),
      });
      const payload = JSON.parse(encoded.value.toString('utf8')) as JsonObject;
      assert.deepEqual(payload['inputs'], { distance: [1234], origin: ['ATL'] });
      assert.equal(payload['trafficRole'], 'TRAFFIC_ROLE_PRIMARY');
    });

    it('produces a message kafkajs accepts', () => {
      const message: KafkajsMessage = encodedAliasSet();
      assert.ok(message.value instanceof Buffer);
    });

    it('refuses a topic that is not registered', () => {
      rejectsWith('UNKNOWN_TOPIC', 'loopline.registry.models.v1', () =>
        encodeEvent({
          // A producer typing a name by hand, bypassing the TopicName type.
          topic: 'loopline.registry.models.v1' as typeof topic,
          key: 'k',
          id: 'i',
          source: '/s',
          time,
          message: aliasSet(),
        }),
      );
    });

    it('refuses an event that belongs on another topic', () => {
      const created = create(DatasetVersionCreatedSchema, { sourceName: 'flights' });
      rejectsWith('WRONG_TOPIC', 'belongs on loopline.ingestion.dataset-versions.v1', () =>
        // @ts-expect-error the compiler already refuses a dataset event on the registry topic
        encodeEvent({ topic, key: 'flights', id: 'i', source: '/s', time, message: created }),
      );
    });

    it('checks at run time what it cannot check at compile time, for dynamic callers', () => {
      const envelope = { key: 'k', id: 'i', source: '/s', time };
      const fromStore: { topic: string; message: Message } = { topic, message: aliasSet() };
      const encoded = encodeDynamicEvent({ ...envelope, ...fromStore });
      assert.equal(encoded.headers['ce_type'], 'loopline.registry.v1.ModelVersionAliasSet');
      assert.deepEqual(decodeEvent(asConsumed(encoded), topic).message, aliasSet());
      rejectsWith('UNKNOWN_EVENT_TYPE', 'grpc.health.v1.HealthCheckRequest', () =>
        encodeDynamicEvent({ ...envelope, topic, message: create(HealthCheckRequestSchema) }),
      );
      rejectsWith('WRONG_TOPIC', 'belongs on loopline.ingestion.dataset-versions.v1', () =>
        encodeDynamicEvent({ ...envelope, topic, message: create(DatasetVersionCreatedSchema) }),
      );
      rejectsWith('UNKNOWN_TOPIC', 'loopline.registry.models.v1', () =>
        encodeDynamicEvent({ ...envelope, topic: 'loopline.registry.models.v1', message: aliasSet() }),
      );
    });

    it('refuses an empty key, an invalid time and a bad extension name', () => {
      const base = { topic, key: 'flight-delay', id: 'i', source: '/s', time, message: aliasSet() } as const;
      rejectsWith('INVALID_ENVELOPE', 'key must not be empty', () => encodeEvent({ ...base, key: '' }));
      rejectsWith('INVALID_ENVELOPE', 'invalid Date', () => encodeEvent({ ...base, time: new Date('nope') }));
      rejectsWith('INVALID_ENVELOPE', '"trace-parent"', () => encodeEvent({ ...base, extensions: { 'trace-parent': 'x' } }));
      rejectsWith('INVALID_ENVELOPE', '"type"', () => encodeEvent({ ...base, extensions: { type: 'spoofed' } }));
    });
  });

  describe('when decoding what was encoded', () => {
    it('returns the same event, typed', () => {
      const decoded = decodeEvent(asConsumed(encodedAliasSet()), topic);
      assert.equal(decoded.id, 'evt-1');
      assert.equal(decoded.type, 'loopline.registry.v1.ModelVersionAliasSet');
      assert.equal(decoded.source, '/loopline/registry');
      assert.equal(decoded.subject, 'flight-delay/champion');
      assert.equal(decoded.key, 'flight-delay');
      assert.deepEqual(decoded.time, time);
      assert.deepEqual(decoded.extensions, { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' });
      assert.equal(decoded.schema, ModelVersionAliasSetSchema);
      assert.deepEqual(decoded.message, aliasSet());
    });

    it('narrows by event type', () => {
      const decoded = decodeEvent(asConsumed(encodedAliasSet()), topic);
      assert.equal(isEvent(decoded, ModelVersionRegisteredSchema), false);
      if (!isEvent(decoded, ModelVersionAliasSetSchema)) assert.fail('expected ModelVersionAliasSet');
      // Compiles only because `decoded.message` is now a ModelVersionAliasSet.
      assert.equal(decoded.message.gateEvidence?.checks[0]?.comparator, GateComparator.AT_LEAST);
    });

    it('accepts headers as strings, as repeated equal values, and a capitalised Content-Type', () => {
      const encoded = encodedAliasSet();
      const { 'content-type': contentType, ...ceHeaders } = encoded.headers;
      const headers = { ...ceHeaders, 'Content-Type': contentType, ce_id: [Buffer.from('evt-1'), 'evt-1'] };
      const decoded = decodeEvent({ key: null, value: encoded.value.toString('utf8'), headers }, topic);
      assert.equal(decoded.id, 'evt-1');
      assert.equal(decoded.key, undefined);
    });

    it('accepts what a kafkajs consumer hands over', () => {
      const encoded = encodedAliasSet();
      const consumed: KafkaMessage = {
        key: Buffer.from(encoded.key),
        value: encoded.value,
        headers: Object.fromEntries(Object.entries(encoded.headers).map(([k, v]) => [k, Buffer.from(v)])),
        timestamp: encoded.timestamp,
        attributes: 0,
        offset: '0',
      };
      assert.equal(decodeEvent(consumed, topic).type, 'loopline.registry.v1.ModelVersionAliasSet');
    });

    it('round-trips int64, maps and optional fields', () => {
      const registered = create(ModelVersionRegisteredSchema, {
        modelName: 'flight-delay',
        modelVersion: 4,
        artifact: { uri: 'file:///a', sha256: 'ab'.repeat(32), sizeBytes: 9_007_199_254_740_993n, format: ModelFormat.ONNX },
        signature: { inputs: [{ name: 'features', datatype: 'FP32', shape: [-1n, 5n] }], outputs: [] },
        metrics: { roc_auc: 0.71, nan_metric: Number.NaN },
        lineage: { datasetVersionIds: ['cd'.repeat(32)], params: { max_depth: '6' } },
        registeredAt: timestampFromDate(time),
      });
      const encoded = encodeEvent({ topic, key: 'flight-delay', id: 'r', source: '/s', time, message: registered });
      assert.match(encoded.value.toString('utf8'), /"sizeBytes":"9007199254740993"/);
      const decoded = decodeEvent(asConsumed(encoded), topic);
      assert.deepEqual(decoded.message, registered);
    });
  });

  describe('when decoding a message that breaks the contract', () => {
    it('rejects a topic that is not registered', () => {
      rejectsWith('UNKNOWN_TOPIC', 'loopline.nowhere.things.v1', () => decodeEvent(asConsumed(encodedAliasSet()), 'loopline.nowhere.things.v1'));
    });

    for (const header of ['ce_specversion', 'ce_id', 'ce_type', 'ce_source', 'ce_time', 'content-type']) {
      it(`rejects a message without ${header}`, () => {
        rejectsWith('MISSING_HEADER', header, () => decodeEvent(asConsumed(encodedAliasSet(), { [header]: undefined }), topic));
      });
    }

    it('rejects a message with no headers at all, naming each missing one', () => {
      const encoded = encodedAliasSet();
      rejectsWith('MISSING_HEADER', 'ce_specversion, ce_id, ce_type, ce_source, ce_time, content-type', () =>
        decodeEvent({ key: null, value: encoded.value }, topic),
      );
    });

    it('rejects an empty required header', () => {
      rejectsWith('MISSING_HEADER', 'ce_id', () => decodeEvent(asConsumed(encodedAliasSet(), { ce_id: '' }), topic));
    });

    it('rejects an unsupported spec version, content type or time', () => {
      rejectsWith('INVALID_HEADER', 'ce_specversion', () => decodeEvent(asConsumed(encodedAliasSet(), { ce_specversion: '0.3' }), topic));
      rejectsWith('INVALID_HEADER', 'content-type', () =>
        decodeEvent(asConsumed(encodedAliasSet(), { 'content-type': 'application/protobuf' }), topic),
      );
      rejectsWith('INVALID_HEADER', 'ce_time', () => decodeEvent(asConsumed(encodedAliasSet(), { ce_time: 'yesterday' }), topic));
    });

    it('rejects a header repeated with different values', () => {
      const encoded = encodedAliasSet();
      const headers = { ...encoded.headers, ce_type: ['loopline.registry.v1.ModelVersionAliasSet', 'loopline.registry.v1.ModelVersionArchived'] };
      rejectsWith('INVALID_HEADER', 'ce_type', () => decodeEvent({ key: null, value: encoded.value, headers }, topic));
    });

    it('rejects a type that is no Loopline event', () => {
      rejectsWith('UNKNOWN_EVENT_TYPE', 'com.example.Thing', () =>
        decodeEvent(asConsumed(encodedAliasSet(), { ce_type: 'com.example.Thing' }), topic),
      );
    });

    it('rejects a Loopline event read from the wrong topic', () => {
      rejectsWith('WRONG_TOPIC', 'not on loopline.serving.predictions.v1', () =>
        decodeEvent(asConsumed(encodedAliasSet()), 'loopline.serving.predictions.v1'),
      );
    });

    it('rejects an empty payload and a payload that is not JSON', () => {
      const encoded = encodedAliasSet();
      rejectsWith('INVALID_PAYLOAD', 'empty payload', () => decodeEvent({ ...asConsumed(encoded), value: null }, topic));
      rejectsWith('INVALID_PAYLOAD', 'not JSON', () => decodeEvent({ ...asConsumed(encoded), value: Buffer.from('{"modelName":') }, topic));
    });

    it('rejects a payload with an unknown field or a wrong type', () => {
      const encoded = encodedAliasSet();
      const withPayload = (payload: JsonObject) => ({ ...asConsumed(encoded), value: Buffer.from(JSON.stringify(payload)) });
      rejectsWith('INVALID_PAYLOAD', 'does not match its schema', () =>
        decodeEvent(withPayload({ modelName: 'flight-delay', modelNmae: 'typo' }), topic),
      );
      rejectsWith('INVALID_PAYLOAD', 'does not match its schema', () => decodeEvent(withPayload({ modelVersion: 'three' }), topic));
      rejectsWith('INVALID_PAYLOAD', 'does not match its schema', () => decodeEvent(withPayload({ setAt: 'last tuesday' }), topic));
    });
  });
});
