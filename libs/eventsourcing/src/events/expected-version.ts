import { ValidationError } from '@loopline/errors';

/**
 * The optimistic-concurrency condition of an append:
 * - a number: the stream's version must equal it (0 is the same as `'no_stream'`);
 * - `'no_stream'`: the stream must not exist;
 * - `'any'`: no check (and, as in EventStoreDB, weaker idempotence: see `classifyRetry`).
 *
 * A stream's version is the position of its last event; a stream that does not exist has version 0.
 */
export type ExpectedVersion = number | 'no_stream' | 'any';

/** The numeric version an expectation requires, or `undefined` for `'any'`. */
export function requiredVersion(expected: ExpectedVersion): number | undefined {
  if (expected === 'any') return undefined;
  if (expected === 'no_stream') return 0;
  if (!Number.isSafeInteger(expected) || expected < 0) {
    throw new ValidationError('expectedVersion must be a non-negative integer, "no_stream" or "any"', { expectedVersion: expected });
  }
  return expected;
}
