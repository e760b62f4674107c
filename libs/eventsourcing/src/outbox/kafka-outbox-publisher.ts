import type { Kafka, Message, Producer, ProducerConfig, TopicMessages } from 'kafkajs';
import type { OutboxPublisher } from './outbox-publisher';
import type { PendingOutboxMessage } from './outbox-message';

/**
 * The producer settings the outbox chain relies on (REFERENCE.md §6.1): idempotent (the broker
 * drops a retried duplicate within one producer instance), one request in flight (so a retry
 * cannot reorder a partition), and acks from all in-sync replicas (idempotence requires it).
 */
export const outboxProducerConfig: ProducerConfig = {
  idempotent: true,
  maxInFlightRequests: 1,
  allowAutoTopicCreation: false,
};

/** A producer configured for the relay; the caller connects and disconnects it. */
export function createOutboxProducer(kafka: Kafka, overrides: Omit<ProducerConfig, 'idempotent' | 'maxInFlightRequests'> = {}): Producer {
  return kafka.producer({ ...overrides, ...outboxProducerConfig });
}

/**
 * Error types that are the message's fault: retrying the same message can never succeed. An
 * unknown topic is among them because topics are provisioned explicitly (no auto-creation): a
 * message to a missing topic would otherwise block every row behind it forever.
 */
const poisonTypes = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'INVALID_TOPIC_EXCEPTION',
  'TOPIC_AUTHORIZATION_FAILED',
  'UNKNOWN_TOPIC_OR_PARTITION',
]);

/**
 * Publishes outbox rows with a kafkajs producer made by `createOutboxProducer` (the caller owns
 * its lifecycle). One `sendBatch` per call with acks -1; calls are serialised, because concurrent
 * sends on an idempotent kafkajs producer have broken sequence numbers (kafkajs#598).
 */
export class KafkaOutboxPublisher implements OutboxPublisher {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly producer: Producer,
    private readonly options: { readonly timeoutMs?: number } = {},
  ) {}

  publish(messages: readonly PendingOutboxMessage[]): Promise<void> {
    const send = this.tail.then(() => this.send(messages));
    this.tail = send.catch(() => undefined);
    return send;
  }

  private async send(messages: readonly PendingOutboxMessage[]): Promise<void> {
    if (messages.length === 0) return;
    // Grouping by topic keeps each topic's messages in row order; kafkajs keeps that order per partition.
    const byTopic = new Map<string, Message[]>();
    for (const message of messages) {
      let topicMessages = byTopic.get(message.topic);
      if (!topicMessages) byTopic.set(message.topic, (topicMessages = []));
      topicMessages.push({ key: message.key, value: message.value, headers: { ...message.headers } });
    }
    const topicMessages: TopicMessages[] = [...byTopic].map(([topic, batch]) => ({ topic, messages: batch }));
    await this.producer.sendBatch({ topicMessages, acks: -1, timeout: this.options.timeoutMs });
  }

  isPoison(error: unknown): boolean {
    return kafkaErrorTypes(error).some((type) => poisonTypes.has(type));
  }
}

/** The protocol error types in an error and its causes (kafkajs wraps them in retries-exceeded and aggregate errors). */
function kafkaErrorTypes(error: unknown, depth = 0): string[] {
  if (typeof error !== 'object' || error === null || depth > 5) return [];
  const types: string[] = [];
  if ('type' in error && typeof error.type === 'string') types.push(error.type);
  if ('cause' in error) types.push(...kafkaErrorTypes(error.cause, depth + 1));
  if ('errors' in error && Array.isArray(error.errors)) for (const inner of error.errors) types.push(...kafkaErrorTypes(inner, depth + 1));
  return types;
}
