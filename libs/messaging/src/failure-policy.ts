import { isLooplineError, isRetryable } from '@loopline/errors';
import { isMessagingErrorRetryable, MessagingError } from './messaging-error';

/** What the consumer knows about one failed attempt. */
export interface FailureFacts {
  /** Whether another attempt could succeed. */
  readonly retryable: boolean;
  /** A stable code for dashboards and the dead-letter header: the error's own code when it has one. */
  readonly code: string;
  readonly message: string;
}

/** Why a message went to the dead-letter topic (the `loopline-dlq-reason` header). */
export type DeadLetterReason =
  /** The payload did not parse through its contract: no attempt can succeed. */
  | 'unparseable'
  /** The handler failed with an error that says retrying is pointless (validation, not found, illegal state). */
  | 'non-retryable'
  /** The handler kept failing with retryable errors until `maxAttempts` ran out. */
  | 'retries-exhausted';

export type NextStep =
  | { readonly kind: 'retry' }
  | { readonly kind: 'dead-letter'; readonly reason: DeadLetterReason };

/**
 * The one place a handler error is mapped to Kafka retry or dead-letter (CONVENTIONS: one mapping
 * per transport). Loopline errors follow `isRetryable(code)` from `@loopline/errors`; kafkajs errors
 * carry their own `retriable` flag (a handler that publishes may see them). Anything else is taken
 * as transient — a dropped connection, a pool timeout — and retried: dead-lettering on the first
 * blip would empty a topic into its DLQ during a routine database failover. A plain bug is thus
 * retried `maxAttempts` times before it is dead-lettered; that costs seconds, not data.
 */
export function classifyFailure(error: unknown): FailureFacts {
  const message = error instanceof Error ? error.message : String(error);
  if (isLooplineError(error)) return { retryable: isRetryable(error.code), code: error.code, message };
  if (error instanceof MessagingError) return { retryable: isMessagingErrorRetryable(error.code), code: error.code, message };
  const ownCode = stringProperty(error, 'code') ?? stringProperty(error, 'type');
  const retriable = booleanProperty(error, 'retriable');
  return { retryable: retriable ?? true, code: ownCode ?? 'UNCLASSIFIED', message };
}

/** Facts about a payload that failed to parse: never retryable, whatever the parser threw. */
export function classifyParseFailure(error: unknown): FailureFacts {
  const message = error instanceof Error ? error.message : String(error);
  return { retryable: false, code: stringProperty(error, 'code') ?? 'UNPARSEABLE', message };
}

/** After attempt `attempt` (1-based) failed: try again, or give up and dead-letter. */
export function nextStepAfterFailure(failure: FailureFacts, attempt: number, maxAttempts: number): NextStep {
  if (!failure.retryable) return { kind: 'dead-letter', reason: 'non-retryable' };
  if (attempt >= maxAttempts) return { kind: 'dead-letter', reason: 'retries-exhausted' };
  return { kind: 'retry' };
}

function stringProperty(value: unknown, key: string): string | undefined {
  if (typeof value !== 'object' || value === null || !(key in value)) return undefined;
  const property: unknown = (value as Record<string, unknown>)[key];
  return typeof property === 'string' && property.length > 0 ? property : undefined;
}

function booleanProperty(value: unknown, key: string): boolean | undefined {
  if (typeof value !== 'object' || value === null || !(key in value)) return undefined;
  const property: unknown = (value as Record<string, unknown>)[key];
  return typeof property === 'boolean' ? property : undefined;
}
