import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeEvent } from '@loopline/contracts';
import type { EventProducer } from '@loopline/messaging';
import type { Kafka } from 'kafkajs';
import pino from 'pino';
import type { PredictionRecord } from '../../application/inference-service';
import { KafkaPredictionPublisher, predictionsTopic } from './prediction-publisher';

// Encoding only: the Kafka client and producer are never used by `encode`.
const publisher = () =>
  new KafkaPredictionPublisher({ kafka: {} as unknown as Kafka, producer: {} as unknown as EventProducer, logger: pino({ level: 'silent' }), source: '/loopline/serving' });

const predictions: PredictionRecord[] = [
  {
    predictionId: '7f0c5c8e-1b7a-4a53-9d7e-0e7d0c1c9a01',
    requestId: 'req-1',
    modelName: 'flight-delay',
    modelVersion: 3,
    alias: 'champion',
    role: 'primary',
    inputs: [
      { name: 'features', datatype: 'FP32', shape: [2, 2], data: new Float32Array([0.1, 2, Number.NaN, -4.5]) },
      { name: 'origin', datatype: 'BYTES', shape: [2, 1], data: ['ATL', 'Zürich "x"'] },
    ],
    outputs: [
      { name: 'label', datatype: 'INT64', shape: [2], data: new BigInt64Array([1n, 0n]) },
      { name: 'flag', datatype: 'BOOL', shape: [2], data: new Uint8Array([1, 0]) },
    ],
    entityKeys: { origin: 'ATL', destination: 'ORD' },
    latencyMs: 0.734,
    predictedAt: new Date(Date.UTC(2026, 10, 28, 3, 47, 21, 123)),
  },
  {
    predictionId: '7f0c5c8e-1b7a-4a53-9d7e-0e7d0c1c9a02',
    requestId: '',
    modelName: 'flight-delay',
    modelVersion: 4,
    alias: '',
    role: 'shadow',
    inputs: [{ name: 'x', datatype: 'FP64', shape: [1], data: new Float64Array([1e-7]) }],
    outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 1], data: new Float32Array([Number.POSITIVE_INFINITY]) }],
    entityKeys: {},
    latencyMs: 12,
    predictedAt: new Date(Date.UTC(2026, 10, 28, 3, 47, 22, 0)),
  },
  {
    predictionId: '7f0c5c8e-1b7a-4a53-9d7e-0e7d0c1c9a03',
    requestId: 'r',
    modelName: 'other',
    modelVersion: 1,
    alias: 'challenger',
    role: 'canary',
    inputs: [],
    outputs: [],
    entityKeys: { user: '42' },
    latencyMs: 0,
    predictedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, 5)),
  },
];

describe('KafkaPredictionPublisher', () => {
  describe('when it encodes predictions', () => {
    it('writes, after the first, the same bytes and headers as the contracts library does', () => {
      const fast = publisher();
      const reference = publisher();
      for (const prediction of [...predictions, ...predictions]) {
        const written = fast.encode(prediction);
        const expected = reference.encodeWithContracts(prediction);
        assert.equal(written.value.toString('utf8'), expected.value.toString('utf8'));
        assert.deepEqual(written.headers, expected.headers);
        assert.equal(written.key, expected.key);
        assert.equal(written.timestamp, expected.timestamp);
        assert.equal(written.id, prediction.predictionId);
      }
    });

    it('writes events the contracts library decodes, entity keys included', () => {
      const fast = publisher();
      fast.encode(predictions[1]!);
      const written = fast.encode(predictions[0]!);
      const decoded = decodeEvent({ key: Buffer.from(written.key), value: written.value, headers: written.headers }, predictionsTopic);
      assert.equal(decoded.message.predictionId, predictions[0]!.predictionId);
      assert.deepEqual({ ...decoded.message.entityKeys }, { origin: 'ATL', destination: 'ORD' });
      assert.deepEqual(decoded.message.inputs?.origin, [['ATL'], ['Zürich "x"']]);
    });
  });
});
