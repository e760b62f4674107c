/**
 * Test fixtures for @loopline/eventsourcing integration specs. What is real: PostgreSQL and Kafka
 * started by `npm test` (one database per test from `createTestDatabase`, unique topics and
 * consumer groups). Nothing here is a mock. The specs pass in the infrastructure (database URL,
 * brokers) from @loopline/testing: a platform library's own code may not depend on it.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { Pool } from 'pg';
import type { DomainEvent, EventMetadata, NewEvent } from '../src/events/event';
import { PostgresEventStore } from '../src/postgres/postgres-event-store';

export const testMetadata: EventMetadata = { time: '2025-01-01T00:00:00.000Z', actor: 'test', correlationId: 'correlation-1' };

export type CounterEvent = { type: 'Incremented'; data: { by: number; seq: number } } | { type: 'Reset'; data: { seq: number } };

export function incremented(seq: number, by = 1, eventId: string = randomUUID()): NewEvent<CounterEvent> {
  return { type: 'Incremented', data: { by, seq }, eventId, metadata: testMetadata };
}

export function newEvent<E extends DomainEvent>(event: E, eventId: string = randomUUID()): NewEvent<E> {
  return { ...event, eventId, metadata: testMetadata };
}

export interface StoreFixture {
  readonly url: string;
  readonly pool: Pool;
  readonly store: PostgresEventStore;
  close(): Promise<void>;
}

/** A store on a fresh database (from `createTestDatabase`), schema migrated. */
export async function createStoreFixture(url: string, options: { poolSize?: number; schema?: string; notifyOutbox?: boolean } = {}): Promise<StoreFixture> {
  const pool = new Pool({ connectionString: url, max: options.poolSize ?? 10 });
  const store = new PostgresEventStore({ pool, schema: options.schema, notifyOutbox: options.notifyOutbox });
  await store.migrate();
  return { url, pool, store, close: () => pool.end() };
}

export function testKafka(brokers: string[]): Kafka {
  return new Kafka({ clientId: 'eventsourcing-test', brokers, logLevel: logLevel.NOTHING });
}

/** A topic or group name no other test uses. */
function uniqueKafkaName(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

/** Creates a topic of its own for one test and waits for its partition leaders. */
export async function createTopic(kafka: Kafka, prefix: string, numPartitions = 3): Promise<string> {
  const topic = uniqueKafkaName(prefix);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions, replicationFactor: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
  return topic;
}

/** How many messages the topic holds (sum of its partitions' high watermarks). */
export async function topicMessageCount(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, partition) => sum + Number(partition.high) - Number(partition.low), 0);
  } finally {
    await admin.disconnect();
  }
}

export interface ConsumedMessage {
  readonly eventId: string;
  readonly key: string | null;
  readonly value: string | null;
  readonly partition: number;
  readonly offset: string;
}

export interface Collector {
  readonly messages: ConsumedMessage[];
  /** How many distinct event ids arrived. */
  distinct(): number;
  stop(): Promise<void>;
}

/**
 * Consumes a topic from the beginning with a consumer group of its own, recording every delivery
 * (duplicates included). `onMessage` runs before the offset is committed, like a real handler.
 */
export async function collectTopic(kafka: Kafka, topic: string, onMessage?: (message: ConsumedMessage) => Promise<void>): Promise<Collector> {
  const consumer: Consumer = kafka.consumer({ groupId: uniqueKafkaName('collector'), maxWaitTimeInMs: 50 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const messages: ConsumedMessage[] = [];
  await consumer.run({
    eachMessage: async ({ message, partition }) => {
      const consumed: ConsumedMessage = {
        eventId: message.headers?.ce_id?.toString() ?? '',
        key: message.key?.toString() ?? null,
        value: message.value?.toString() ?? null,
        partition,
        offset: message.offset,
      };
      await onMessage?.(consumed);
      messages.push(consumed);
    },
  });
  return {
    messages,
    distinct: () => new Set(messages.map((message) => message.eventId)).size,
    stop: () => consumer.disconnect(),
  };
}

/** Event ids that arrived more than once. */
export function duplicatesOf(messages: readonly ConsumedMessage[]): string[] {
  const seen = new Set<string>();
  const duplicates: string[] = [];
  for (const message of messages) {
    if (seen.has(message.eventId)) duplicates.push(message.eventId);
    seen.add(message.eventId);
  }
  return duplicates;
}

/**
 * Per-key order: for each key, the `seq` of its messages in consumption order must never go
 * down (a redelivered batch may repeat values, but an older value after a newer one is a reorder
 * unless it is a duplicate of an already-seen id).
 */
export function orderViolations(messages: readonly ConsumedMessage[]): string[] {
  const lastSeq = new Map<string, number>();
  const seen = new Set<string>();
  const violations: string[] = [];
  for (const message of messages) {
    if (seen.has(message.eventId)) continue; // a redelivery, not a reorder
    seen.add(message.eventId);
    const seq = (JSON.parse(message.value ?? '{}') as { seq?: number }).seq ?? -1;
    const previous = lastSeq.get(message.key ?? '') ?? -1;
    if (seq <= previous) violations.push(`${message.key}: seq ${seq} after ${previous}`);
    lastSeq.set(message.key ?? '', seq);
  }
  return violations;
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
