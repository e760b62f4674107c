import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import { createOutboxProducer, KafkaOutboxPublisher, OutboxRelay, type PostgresEventStore } from '@loopline/eventsourcing';
import { benchEvent } from './append-throughput';
import { formatNumber, waitUntil } from './measure';

export interface RelayThroughput {
  readonly rows: number;
  readonly elapsedMs: number;
  readonly perSecond: number;
  readonly onTopic: number;
}

/**
 * Pre-fills the outbox with `rows` messages (appends of 500 events over 100 streams, not timed),
 * then times one relay draining it to Kafka through the idempotent producer (acks -1), and
 * checks the topic's offsets add up.
 */
export async function relayThroughput(store: PostgresEventStore, pool: Pool, kafka: Kafka, topic: string, rows: number, batchSize: number): Promise<RelayThroughput> {
  const perAppend = 500;
  const streams = Array.from({ length: 100 }, (_, index) => ({ id: `relay-${index}-${randomUUID()}`, version: 0 }));
  const filled = performance.now();
  for (let written = 0, index = 0; written < rows; written += perAppend, index += 1) {
    const stream = streams[index % streams.length]!;
    const events = Array.from({ length: Math.min(perAppend, rows - written) }, (_, offset) => benchEvent(stream.version + offset + 1));
    const result = await store.appendToStream(stream.id, events, {
      expectedVersion: stream.version,
      outbox: events.map((event) => ({ topic, key: stream.id, value: JSON.stringify(event.data) })),
    });
    stream.version = result.nextExpectedVersion;
    if ((written / perAppend) % 20 === 0) console.log(`    pre-fill: ${formatNumber(written + events.length)} / ${formatNumber(rows)} outbox rows`);
  }
  console.log(`    pre-filled ${formatNumber(rows)} rows in ${formatNumber((performance.now() - filled) / 1000, 1)} s; relaying (batch ${batchSize})`);

  const producer = createOutboxProducer(kafka);
  await producer.connect();
  const relay = new OutboxRelay({ pool, publisher: new KafkaOutboxPublisher(producer), batchSize, pollIntervalMs: 5, onError: (error) => console.error('    relay error:', error) });
  const started = performance.now();
  const progress = setInterval(() => console.log(`    relay: ${formatNumber(relay.stats.published)} published`), 1000);
  relay.start();
  try {
    const done = await waitUntil(() => relay.stats.published >= rows, 120_000, 2);
    const elapsedMs = performance.now() - started;
    if (!done) throw new Error(`relay published only ${relay.stats.published} of ${rows} rows in 120 s`);
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    const onTopic = offsets.reduce((sum, partition) => sum + Number(partition.high) - Number(partition.low), 0);
    return { rows, elapsedMs, perSecond: (rows * 1000) / elapsedMs, onTopic };
  } finally {
    clearInterval(progress);
    await relay.stop();
    await producer.disconnect();
  }
}
