import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import { createOutboxProducer, KafkaOutboxPublisher, OutboxRelay, type OutboxPublisher, type PostgresEventStore } from '@loopline/eventsourcing';
import { benchEvent } from './append-throughput';
import { formatNumber, percentile, waitUntil } from './measure';

export interface EndToEndLatency {
  readonly sent: number;
  readonly measured: number;
  readonly achievedPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly appendP99Ms: number;
  /** Issue → the relay's publish resolved (commit, horizon, poll, produce with acks -1). */
  readonly toPublishedP50Ms: number;
  readonly toPublishedP99Ms: number;
  /** Publish resolved → the consumer's handler ran (kafkajs fetch and dispatch). */
  readonly toConsumedP50Ms: number;
  readonly toConsumedP99Ms: number;
}

/**
 * Open-loop load at `rate` appends/s (one event + one outbox message each, spread over 100
 * streams with per-stream expected versions) for `durationMs`, with the relay and a kafkajs
 * consumer running. Latency = consume time − time the append was issued, so it includes the
 * commit, the wait for the xid8 horizon, the relay's poll, the publish and the consumer's fetch.
 * The first second is warm-up and not measured. The split at the relay's publish shows which side the time is on.
 */
export async function endToEndLatency(store: PostgresEventStore, pool: Pool, kafka: Kafka, topic: string, partitions: number, rate: number, durationMs: number): Promise<EndToEndLatency> {
  const warmupMs = 1000;
  const issuedAt = new Map<string, number>();
  const publishedAt = new Map<string, number>();
  const latencies: number[] = [];
  const toPublished: number[] = [];
  const toConsumed: number[] = [];
  const appendLatencies: number[] = [];
  let consumed = 0;

  const consumer = kafka.consumer({ groupId: `bench-latency-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    // kafkajs handles the partitions of one fetch one after another by default, which alone adds
    // ~35 ms p50 here once a fetch spans several partitions; order per partition is kept either way.
    partitionsConsumedConcurrently: partitions,
    eachMessage: async ({ message }) => {
      const now = performance.now();
      const eventId = message.headers?.ce_id?.toString() ?? '';
      const issued = issuedAt.get(eventId);
      const published = publishedAt.get(eventId);
      if (issued !== undefined && published !== undefined) {
        latencies.push(now - issued);
        toPublished.push(published - issued);
        toConsumed.push(now - published);
      }
      consumed += 1;
    },
  });
  const producer = createOutboxProducer(kafka);
  await producer.connect();
  const kafkaPublisher = new KafkaOutboxPublisher(producer);
  const timedPublisher: OutboxPublisher = {
    isPoison: (error) => kafkaPublisher.isPoison(error),
    publish: async (messages) => {
      await kafkaPublisher.publish(messages);
      const now = performance.now();
      for (const message of messages) if (issuedAt.has(message.eventId)) publishedAt.set(message.eventId, now);
    },
  };
  const relay = new OutboxRelay({ pool, publisher: timedPublisher, pollIntervalMs: 5, onError: (error) => console.error('    relay error:', error) });
  relay.start();

  const streams = Array.from({ length: 100 }, (_, index) => ({ id: `latency-${index}-${randomUUID()}`, version: 0, tail: Promise.resolve() }));
  let sent = 0;
  const started = performance.now();
  const total = Math.round((rate * (durationMs + warmupMs)) / 1000);
  const progress = setInterval(() => console.log(`    ${formatNumber(sent)} appended, ${formatNumber(consumed)} consumed`), 1000);
  try {
    while (sent < total) {
      const due = Math.min(total, Math.floor(((performance.now() - started) * rate) / 1000));
      for (; sent < due; sent += 1) {
        const stream = streams[sent % streams.length]!;
        const measured = performance.now() - started >= warmupMs;
        // Appends to one stream are chained, so each passes the version the previous one returned.
        stream.tail = stream.tail.then(async () => {
          const event = benchEvent(stream.version + 1);
          const issued = performance.now();
          if (measured) issuedAt.set(event.eventId, issued);
          const result = await store.appendToStream(stream.id, [event], {
            expectedVersion: stream.version,
            outbox: [{ topic, key: stream.id, value: JSON.stringify(event.data) }],
          });
          if (measured) appendLatencies.push(performance.now() - issued);
          stream.version = result.nextExpectedVersion;
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await Promise.all(streams.map((stream) => stream.tail));
    const achievedPerSecond = (sent * 1000) / (performance.now() - started);
    if (!(await waitUntil(() => consumed >= sent, 30_000))) throw new Error(`consumed ${consumed} of ${sent} within 30 s`);
    return {
      sent,
      measured: latencies.length,
      achievedPerSecond,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: percentile(latencies, 100),
      appendP99Ms: percentile(appendLatencies, 99),
      toPublishedP50Ms: percentile(toPublished, 50),
      toPublishedP99Ms: percentile(toPublished, 99),
      toConsumedP50Ms: percentile(toConsumed, 50),
      toConsumedP99Ms: percentile(toConsumed, 99),
    };
  } finally {
    clearInterval(progress);
    await relay.stop();
    await producer.disconnect();
    await consumer.disconnect();
  }
}
