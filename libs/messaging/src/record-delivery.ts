import { context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { backoffDelayMs, type BackoffPolicy } from './backoff';
import { deadLetterMessage, type DeadLetterFacts } from './dead-letter';
import { classifyFailure, classifyParseFailure, nextStepAfterFailure } from './failure-policy';
import type { ConsumedRecord, MessageHeaders, OutgoingMessage } from './message-types';
import { abortableDelay, runWithTimeout } from './timeouts';
import { contextFromHeaders, messagingAttributes, messagingTracer } from './trace-context';

/** What a handler learns about the record besides its parsed event. */
export interface Delivery {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly headers: MessageHeaders;
  /** 1 on first delivery, then 2, 3… on in-process retries (a redelivery after a restart starts at 1 again). */
  readonly attempt: number;
  /** Aborted when `handlerTimeoutMs` expires: pass it to queries and calls so they stop too. */
  readonly signal: AbortSignal;
}

/** Turns a consumed record into the typed event a handler receives; throws when the payload is not a valid contract. */
export type ParseRecord<TEvent> = (record: ConsumedRecord) => TEvent;

export type HandleEvent<TEvent> = (event: TEvent, delivery: Delivery) => Promise<void>;

export interface DeliveryPolicy {
  readonly maxAttempts: number;
  readonly backoff: BackoffPolicy;
  readonly handlerTimeoutMs: number;
  /** Heartbeat at least this often while waiting between attempts. */
  readonly heartbeatIntervalMs: number;
}

export interface DeliveryPorts<TEvent> {
  readonly groupId: string;
  readonly parse: ParseRecord<TEvent>;
  readonly handle: HandleEvent<TEvent>;
  readonly policy: DeliveryPolicy;
  readonly deadLetterTopicOf: (topic: string) => string;
  /** Publishes a dead-letter copy, keeping its trace headers. */
  readonly publishDeadLetter: (message: OutgoingMessage) => Promise<void>;
  /** kafkajs' heartbeat: throws when the group is rebalancing, which must abandon the record. */
  readonly heartbeat: () => Promise<void>;
  /** Aborted by `stop()`: cuts a backoff wait short; never interrupts a running handler. */
  readonly stopSignal: AbortSignal;
  readonly logger: Logger;
  readonly now: () => Date;
}

/**
 * `handled`: the record needs no more work — the handler succeeded or the record was
 * dead-lettered — and its offset may be committed. `interrupted`: `stop()` came during a backoff;
 * the record is left uncommitted for the next owner of the partition.
 */
export type DeliveryOutcome = 'handled' | 'interrupted';

/**
 * Delivers one record: parse through its contract, run the handler with a deadline, retry
 * retryable failures with backoff, dead-letter the rest. Everything happens in a CONSUMER span
 * whose parent is the producer span carried by the record's headers, so the trace of the request
 * that caused the event continues here, and the handler's own spans (SQL, gRPC) nest below it.
 * Throws only when the dead-letter copy cannot be published or a heartbeat reports a rebalance;
 * the record then stays uncommitted and is delivered again.
 */
export async function deliverRecord<TEvent>(record: ConsumedRecord, ports: DeliveryPorts<TEvent>): Promise<DeliveryOutcome> {
  const parent = contextFromHeaders(record.headers);
  const span = messagingTracer().startSpan(
    `process ${record.topic}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        [messagingAttributes.system]: 'kafka',
        [messagingAttributes.destination]: record.topic,
        [messagingAttributes.partition]: String(record.partition),
        [messagingAttributes.offset]: record.offset,
        [messagingAttributes.operationType]: 'process',
        [messagingAttributes.operationName]: 'process',
        [messagingAttributes.consumerGroup]: ports.groupId,
      },
    },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), () => parseAndHandle(record, span, ports));
  } catch (error) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'delivery abandoned; the record will be delivered again' });
    throw error;
  } finally {
    span.end();
  }
}

async function parseAndHandle<TEvent>(record: ConsumedRecord, span: Span, ports: DeliveryPorts<TEvent>): Promise<DeliveryOutcome> {
  let event: TEvent;
  try {
    event = ports.parse(record);
  } catch (error) {
    await deadLetter(record, span, ports, { reason: 'unparseable', failure: classifyParseFailure(error), attempts: 0, failedAt: ports.now() });
    return 'handled';
  }

  const { maxAttempts, backoff, handlerTimeoutMs } = ports.policy;
  for (let attempt = 1; ; attempt += 1) {
    span.setAttribute(messagingAttributes.attempts, attempt);
    try {
      const delivery = { topic: record.topic, partition: record.partition, offset: record.offset, key: record.key, headers: record.headers, attempt };
      await runWithTimeout((signal) => ports.handle(event, { ...delivery, signal }), handlerTimeoutMs);
      return 'handled';
    } catch (error) {
      const failure = classifyFailure(error);
      span.addEvent('handler attempt failed', { attempt, 'error.type': failure.code, 'error.message': failure.message, retryable: failure.retryable });
      const step = nextStepAfterFailure(failure, attempt, maxAttempts);
      if (step.kind === 'dead-letter') {
        await deadLetter(record, span, ports, { reason: step.reason, failure, attempts: attempt, failedAt: ports.now() });
        return 'handled';
      }
      const delayMs = backoffDelayMs(backoff, attempt);
      ports.logger.debug({ ...coordinates(record), attempt, delayMs, code: failure.code, err: error }, 'handler failed; retrying');
      const waited = await waitWithHeartbeats(delayMs, ports);
      if (!waited) return 'interrupted';
    }
  }
}

async function deadLetter<TEvent>(record: ConsumedRecord, span: Span, ports: DeliveryPorts<TEvent>, facts: DeadLetterFacts): Promise<void> {
  const topic = ports.deadLetterTopicOf(record.topic);
  await ports.publishDeadLetter(deadLetterMessage(record, topic, facts));
  span.setAttribute(messagingAttributes.deadLetterReason, facts.reason);
  span.setStatus({ code: SpanStatusCode.ERROR, message: `dead-lettered (${facts.reason}): ${facts.failure.code}` });
  ports.logger.warn(
    { ...coordinates(record), deadLetterTopic: topic, reason: facts.reason, code: facts.failure.code, attempts: facts.attempts, error: facts.failure.message },
    'record dead-lettered',
  );
}

/**
 * Sleeps through a backoff in heartbeat-sized slices. Heartbeating here is honest — the consumer
 * is healthy, merely waiting — unlike a timer that heartbeats while a handler hangs (kafkajs#447).
 */
async function waitWithHeartbeats<TEvent>(delayMs: number, ports: DeliveryPorts<TEvent>): Promise<boolean> {
  const deadline = Date.now() + delayMs;
  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return true;
    const waited = await abortableDelay(Math.min(remaining, ports.policy.heartbeatIntervalMs), ports.stopSignal);
    if (!waited) return false;
    await ports.heartbeat();
  }
}

function coordinates(record: ConsumedRecord): Record<string, string | number> {
  return { topic: record.topic, partition: record.partition, offset: record.offset };
}
