import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProducerBatch, RecordMetadata } from 'kafkajs';
import pino from 'pino';
import { EventProducer, type ProducerClient } from './event-producer';
import { MessagingError } from './messaging-error';

/** Stands in for a kafkajs producer: records what it is asked and fails when told to. */
class FakeProducer implements ProducerClient {
  readonly batches: ProducerBatch[] = [];
  connected = false;
  inFlight = 0;
  maxInFlight = 0;
  failNextSendWith: Error | undefined;

  async connect(): Promise<void> {
    this.connected = true;
  }

  async disconnect(): Promise<void> {
    this.connected = false;
  }

  async sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]> {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      // Yield a few turns so that overlapping sends, if the queue allowed them, would show.
      for (let turn = 0; turn < 3; turn += 1) await new Promise((resolve) => setImmediate(resolve));
      const failure = this.failNextSendWith;
      this.failNextSendWith = undefined;
      if (failure) throw failure;
      this.batches.push(batch);
      return (batch.topicMessages ?? []).map(({ topic }) => ({ topicName: topic, partition: 0, errorCode: 0, baseOffset: String(this.batches.length - 1) }));
    } finally {
      this.inFlight -= 1;
    }
  }
}

function producerUnderTest(): { producer: EventProducer; created: FakeProducer[] } {
  const created: FakeProducer[] = [];
  const producer = new EventProducer(() => {
    const fake = new FakeProducer();
    created.push(fake);
    return fake;
  }, pino({ level: 'silent' }));
  return { producer, created };
}

function sequenceError(): Error {
  return Object.assign(new Error('The broker received an out of order sequence number'), { name: 'KafkaJSProtocolError', type: 'OUT_OF_ORDER_SEQUENCE_NUMBER', retriable: false });
}

describe('EventProducer', () => {
  describe('when publish is called concurrently', () => {
    it('keeps one send in flight and sends in call order', async () => {
      const { producer, created } = producerUnderTest();
      await Promise.all([1, 2, 3, 4, 5].map((n) => producer.publish([{ topic: 't', key: `k${n}`, value: `v${n}` }])));
      assert.equal(created.length, 1);
      assert.equal(created[0]!.maxInFlight, 1);
      assert.deepEqual(created[0]!.batches.map((batch) => batch.topicMessages?.[0]?.messages[0]?.value), ['v1', 'v2', 'v3', 'v4', 'v5']);
    });
  });

  describe('when a send fails with a fatal sequence error', () => {
    it('rejects with PRODUCER_RESET and sends the next batch on a new producer', async () => {
      const { producer, created } = producerUnderTest();
      await producer.connect();
      created[0]!.failNextSendWith = sequenceError();
      await assert.rejects(producer.publish([{ topic: 't', value: 'lost?' }]), (error: unknown) => error instanceof MessagingError && error.code === 'PRODUCER_RESET');
      assert.equal(created[0]!.connected, false, 'the broken producer is disconnected');

      await producer.publish([{ topic: 't', value: 'after reset' }]);
      assert.equal(created.length, 2);
      assert.equal(created[1]!.batches.length, 1);
    });
  });

  describe('when a send fails with an error the producer survives', () => {
    it('rejects with that error and keeps the producer', async () => {
      const { producer, created } = producerUnderTest();
      await producer.connect();
      const unknownTopic = Object.assign(new Error('This server does not host this topic-partition'), { type: 'UNKNOWN_TOPIC_OR_PARTITION' });
      created[0]!.failNextSendWith = unknownTopic;
      await assert.rejects(producer.publish([{ topic: 'missing', value: 'x' }]), (error: unknown) => error === unknownTopic);
      await producer.publish([{ topic: 't', value: 'y' }]);
      assert.equal(created.length, 1);
    });
  });

  describe('when disconnected', () => {
    it('finishes queued sends, then refuses new ones', async () => {
      const { producer, created } = producerUnderTest();
      const queued = producer.publish([{ topic: 't', value: 'queued' }]);
      const disconnecting = producer.disconnect();
      await queued;
      await disconnecting;
      assert.equal(created[0]!.batches.length, 1);
      assert.equal(created[0]!.connected, false);
      await assert.rejects(producer.publish([{ topic: 't', value: 'late' }]), (error: unknown) => error instanceof MessagingError && error.code === 'STOPPED');
    });
  });
});
