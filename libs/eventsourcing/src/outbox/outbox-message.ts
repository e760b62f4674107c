import { ValidationError } from '@loopline/errors';
import type { NewEvent } from '../events/event';

/**
 * A message to publish once the append that carries it commits. It is written to the outbox table
 * in the same transaction as the events, so either both exist or neither does.
 */
export interface OutboxMessage {
  readonly topic: string;
  /** Kafka key: the aggregate or entity id, so order holds per key. */
  readonly key: string | null;
  /** `null` is a tombstone (for compacted topics). Strings are stored as UTF-8. */
  readonly value: Buffer | string | null;
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * The event this message carries; it becomes the `ce_id` header, the consumers' dedup key.
   * Defaults to the id of the appended event at the same index.
   */
  readonly eventId?: string;
}

/** An outbox row as the relay hands it to a publisher. */
export interface PendingOutboxMessage {
  readonly position: number;
  readonly eventId: string;
  readonly topic: string;
  readonly key: string | null;
  readonly value: Buffer | null;
  /** Always carries `ce_id` (the event id), added by the relay when the writer did not set it. */
  readonly headers: Readonly<Record<string, string>>;
  /** Failed publish attempts so far. */
  readonly attempts: number;
}

/** The header consumers dedupe on: the CloudEvents id in Kafka binary content mode. */
export const eventIdHeader = 'ce_id';

/** Column arrays for one `unnest` insert of an append's outbox rows. */
export interface OutboxColumns {
  readonly eventIds: string[];
  readonly topics: string[];
  readonly keys: (string | null)[];
  readonly values: (Buffer | null)[];
  readonly headers: string[];
}

export function outboxColumns(messages: readonly OutboxMessage[], events: readonly NewEvent[]): OutboxColumns {
  const columns: OutboxColumns = { eventIds: [], topics: [], keys: [], values: [], headers: [] };
  const seen = new Set<string>();
  messages.forEach((message, index) => {
    const eventId = message.eventId ?? events[index]?.eventId;
    if (eventId === undefined) {
      throw new ValidationError('an outbox message beyond the number of events must name its eventId', { index });
    }
    if (typeof message.topic !== 'string' || message.topic === '') throw new ValidationError('outbox topic is empty', { index });
    // Two messages with one id on one topic would be deduplicated into one by every consumer.
    const topicAndId = `${message.topic}\u0000${eventId}`;
    if (seen.has(topicAndId)) throw new ValidationError('two outbox messages share a topic and an event id', { topic: message.topic, eventId });
    seen.add(topicAndId);
    columns.eventIds.push(eventId);
    columns.topics.push(message.topic);
    columns.keys.push(message.key);
    columns.values.push(message.value === null ? null : Buffer.isBuffer(message.value) ? message.value : Buffer.from(message.value, 'utf8'));
    columns.headers.push(JSON.stringify(message.headers ?? {}));
  });
  return columns;
}
