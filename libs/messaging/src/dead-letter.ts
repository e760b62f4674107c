import type { DeadLetterReason, FailureFacts } from './failure-policy';
import type { ConsumedRecord, MessageHeaders, OutgoingMessage } from './message-types';

/** Suffix of a topic's default dead-letter topic: `model-versions.v1` → `model-versions.v1.dlq`. */
export const deadLetterSuffix = '.dlq';

export function defaultDeadLetterTopic(topic: string): string {
  return `${topic}${deadLetterSuffix}`;
}

/**
 * Headers a dead-lettered record gains. The original key, value and headers are kept untouched —
 * `traceparent` included, so a replay continues the original trace — and these say why and from
 * where, so an operator can fix the cause and replay to `original-topic`.
 */
export const deadLetterHeaders = {
  /** `unparseable`, `non-retryable` or `retries-exhausted` (see `DeadLetterReason`). */
  reason: 'loopline-dlq-reason',
  /** The error's own code (`VALIDATION`, a contract error code, `HANDLER_TIMEOUT`, …) or `UNCLASSIFIED`. */
  errorCode: 'loopline-dlq-error-code',
  /** The last error message, cut to `maxErrorMessageLength` characters. */
  errorMessage: 'loopline-dlq-error-message',
  originalTopic: 'loopline-dlq-original-topic',
  originalPartition: 'loopline-dlq-original-partition',
  originalOffset: 'loopline-dlq-original-offset',
  /** Handler attempts made; `0` when the payload never parsed. */
  attempts: 'loopline-dlq-attempts',
  /** ISO-8601 time the record was given up on. */
  failedAt: 'loopline-dlq-failed-at',
} as const;

/** Headers are read by people in a console; a stack-sized message would only bloat the DLQ. */
export const maxErrorMessageLength = 1_000;

export interface DeadLetterFacts {
  readonly reason: DeadLetterReason;
  readonly failure: FailureFacts;
  readonly attempts: number;
  readonly failedAt: Date;
}

/** The copy of `record` to publish to `deadLetterTopic`. */
export function deadLetterMessage(record: ConsumedRecord, deadLetterTopic: string, facts: DeadLetterFacts): OutgoingMessage {
  const headers: MessageHeaders = {
    ...record.headers,
    [deadLetterHeaders.reason]: facts.reason,
    [deadLetterHeaders.errorCode]: facts.failure.code,
    [deadLetterHeaders.errorMessage]: facts.failure.message.slice(0, maxErrorMessageLength),
    [deadLetterHeaders.originalTopic]: record.topic,
    [deadLetterHeaders.originalPartition]: String(record.partition),
    [deadLetterHeaders.originalOffset]: record.offset,
    [deadLetterHeaders.attempts]: String(facts.attempts),
    [deadLetterHeaders.failedAt]: facts.failedAt.toISOString(),
  };
  return { topic: deadLetterTopic, key: record.key, value: record.value, headers };
}
