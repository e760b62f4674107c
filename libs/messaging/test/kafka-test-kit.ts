// Helpers for this library's integration specs. Which parts are real: the Kafka broker (started
// once per `npm test` run by scripts/test.ts), kafkajs, the OpenTelemetry SDK. Nothing is mocked.
// Specs pass the brokers in (`testInfra().kafkaBrokers`): only spec files may import
// `@loopline/testing` from a platform library (Nx module boundaries).
import type { Kafka } from 'kafkajs';
import pino, { type Logger } from 'pino';
import { createKafkaClient } from '../src/kafka-client';
import type { GroupSettings } from '../src/subscription';
import type { ConsumedRecord } from '../src/message-types';

/** Errors only: the specs provoke dead letters and retries on purpose, whose warnings are noise here. */
export const testLogger: Logger = pino({ level: 'error' });

export function testKafka(brokers: readonly string[], clientId: string): Kafka {
  return createKafkaClient(
    { brokers, clientId, connectionTimeoutMs: 3_000, requestTimeoutMs: 10_000, retry: { initialRetryTimeMs: 100, retries: 3 } },
    testLogger,
  );
}

/**
 * Group timings that keep a spec fast: the broker's minimum session (6 s), frequent heartbeats,
 * short fetch waits so `stop()` does not wait out an idle long-poll.
 */
export const fastGroup: GroupSettings = {
  sessionTimeoutMs: 6_000,
  heartbeatIntervalMs: 500,
  rebalanceTimeoutMs: 6_000,
  maxWaitTimeMs: 100,
  retry: { initialRetryTimeMs: 100, maxRetryTimeMs: 1_000, retries: 3 },
};

/** Reads every record of `topic` from the beginning, with a throwaway group, until `stop()`. */
export async function recordTopic(kafka: Kafka, topic: string, groupId: string): Promise<{ records: ConsumedRecord[]; stop: () => Promise<void> }> {
  const records: ConsumedRecord[] = [];
  const consumer = kafka.consumer({ groupId, sessionTimeout: 6_000, heartbeatInterval: 500, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic: from, partition, message }) => {
      records.push({ topic: from, partition, offset: message.offset, key: message.key, value: message.value, headers: message.headers ?? {}, timestamp: message.timestamp });
    },
  });
  return { records, stop: () => consumer.disconnect() };
}

/** The text of a header, whichever form kafkajs delivered it in. */
export function headerText(record: ConsumedRecord, name: string): string | undefined {
  const value = record.headers[name];
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value[0] : value)?.toString();
}

/** A promise with its resolve function, to hold a handler at a known point. */
export function gate(): { opened: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}
