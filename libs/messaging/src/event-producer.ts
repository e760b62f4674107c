import { context, type Context, propagation, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Kafka, Message, Producer, RecordMetadata, TopicMessages } from 'kafkajs';
import type { Logger } from 'pino';
import { MessagingError } from './messaging-error';
import type { MessageHeaders, OutgoingMessage, PublishedRecord } from './message-types';
import { requiresProducerReset } from './producer-reset';
import { messagingAttributes, messagingTracer, traceHeaders } from './trace-context';

/** The part of a kafkajs producer `EventProducer` drives; narrow so tests can stand in for it. */
export type ProducerClient = Pick<Producer, 'connect' | 'disconnect' | 'sendBatch'>;

export interface PublishOptions {
  /**
   * Keep a `traceparent` the record already carries instead of replacing it with this send's span.
   * The dead-letter path uses it: the copy must keep the original headers so a replay continues the
   * original trace. The send span is created either way.
   */
  readonly keepTraceHeaders?: boolean;
}

export interface EventProducerOptions {
  readonly logger: Logger;
  /**
   * kafkajs retries of one send before it fails. kafkajs defaults to "forever" for idempotent
   * producers, which would hang `publish` (and shutdown) through a long broker outage; bounded
   * retries fail instead, and the producer is then re-created (see `requiresProducerReset`).
   */
  readonly retries?: number;
}

/**
 * Publishes records with an idempotent producer (acks −1, one request in flight), so broker-side
 * retries never duplicate or reorder a partition. Calls to `publish` are queued: one send at a
 * time per producer, since concurrent sends on an idempotent kafkajs producer broke sequence
 * numbers (REFERENCE 6.3). After a fatal sequence error or a send of unknown outcome the kafkajs
 * producer is replaced and `publish` rejects with `PRODUCER_RESET`; publish again — consumers
 * deduplicate by event id, since a new producer id is not deduplicated by the broker.
 *
 * Each record gets a PRODUCER span (child of the active context) whose W3C trace context travels
 * in the record's headers, so the consumer's span continues the same trace.
 */
export class EventProducer {
  private producer: ProducerClient | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private disconnected = false;

  constructor(
    private readonly createProducer: () => ProducerClient,
    private readonly logger: Logger,
  ) {}

  /** Connects now rather than on the first publish, so a service fails at startup, not later. */
  connect(): Promise<void> {
    return this.serialized(async () => {
      await this.connectedProducer();
    });
  }

  /** Sends `messages` (any topics) as one batch; resolves when every in-sync replica has them. */
  publish(messages: readonly OutgoingMessage[], options: PublishOptions = {}): Promise<PublishedRecord[]> {
    const parent = context.active();
    return this.serialized(() => this.send(messages, options, parent));
  }

  /** Waits for queued sends, then disconnects. Later publishes reject with `STOPPED`. */
  disconnect(): Promise<void> {
    const closing = this.serialized(async () => {
      const producer = this.producer;
      this.producer = undefined;
      await producer?.disconnect();
    }, true);
    this.disconnected = true;
    return closing;
  }

  /** Queues `task` behind every earlier call; refused at once if `disconnect()` came first. */
  private serialized<T>(task: () => Promise<T>, evenWhenDisconnected = false): Promise<T> {
    if (this.disconnected && !evenWhenDisconnected) {
      return Promise.reject(new MessagingError('STOPPED', 'the producer is disconnected'));
    }
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async connectedProducer(): Promise<ProducerClient> {
    if (this.producer) return this.producer;
    const producer = this.createProducer();
    await producer.connect();
    this.producer = producer;
    return producer;
  }

  private async send(messages: readonly OutgoingMessage[], options: PublishOptions, parent: Context): Promise<PublishedRecord[]> {
    if (messages.length === 0) return [];
    const producer = await this.connectedProducer();
    const spans: Span[] = [];
    const byTopic = new Map<string, Message[]>();
    for (const message of messages) {
      const span = startSendSpan(message, parent);
      spans.push(span);
      const headers = withTraceContext(message.headers, trace.setSpan(parent, span), options.keepTraceHeaders === true);
      const batch = byTopic.get(message.topic) ?? [];
      batch.push({ key: message.key, value: message.value, headers, partition: message.partition, timestamp: message.timestamp });
      byTopic.set(message.topic, batch);
    }
    const topicMessages: TopicMessages[] = [...byTopic].map(([topic, batch]) => ({ topic, messages: batch }));
    try {
      const written = await producer.sendBatch({ topicMessages, acks: -1 });
      for (const span of spans) span.end();
      return written.map(toPublishedRecord);
    } catch (error) {
      for (const span of spans) endWithError(span, error);
      if (requiresProducerReset(error)) {
        await this.reset(producer, error);
        throw new MessagingError('PRODUCER_RESET', `send failed and the producer was re-created; outcome unknown: ${messageOf(error)}`, { cause: error });
      }
      throw error;
    }
  }

  private async reset(broken: ProducerClient, cause: unknown): Promise<void> {
    this.logger.warn({ err: cause }, 'idempotent producer state is unrecoverable; re-creating the producer');
    this.producer = undefined;
    try {
      await broken.disconnect();
    } catch (error) {
      this.logger.warn({ err: error }, 'disconnecting the broken producer failed');
    }
  }
}

/** An `EventProducer` on `kafka` with the settings REFERENCE 6.1 prescribes for Loopline. */
export function createEventProducer(kafka: Kafka, options: EventProducerOptions): EventProducer {
  return new EventProducer(
    () =>
      kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        // A typo in a topic name must fail the send, whatever the broker setting.
        allowAutoTopicCreation: false,
        retry: { retries: options.retries ?? 8 },
      }),
    options.logger,
  );
}

function startSendSpan(message: OutgoingMessage, parent: Context): Span {
  const attributes: Record<string, string> = {
    [messagingAttributes.system]: 'kafka',
    [messagingAttributes.destination]: message.topic,
    [messagingAttributes.operationType]: 'send',
    [messagingAttributes.operationName]: 'send',
  };
  if (typeof message.key === 'string') attributes[messagingAttributes.messageKey] = message.key;
  return messagingTracer().startSpan(`send ${message.topic}`, { kind: SpanKind.PRODUCER, attributes }, parent);
}

function withTraceContext(headers: MessageHeaders | undefined, spanContext: Context, keepExisting: boolean): MessageHeaders {
  const copy: MessageHeaders = { ...headers };
  if (keepExisting && copy.traceparent !== undefined) return copy;
  // A stale `tracestate` (or baggage) next to a fresh `traceparent` would describe another trace.
  for (const field of propagation.fields()) delete copy[field];
  return { ...copy, ...traceHeaders(spanContext) };
}

function endWithError(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: messageOf(error) });
  span.end();
}

function toPublishedRecord(metadata: RecordMetadata): PublishedRecord {
  return { topic: metadata.topicName, partition: metadata.partition, offset: metadata.baseOffset ?? metadata.offset };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
