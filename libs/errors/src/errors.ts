/**
 * The small vocabulary of failures domain and application code may raise. Each has a `code`
 * discriminant; transports map codes to HTTP status, gRPC status or Kafka retry/dead-letter in
 * exactly one place each (see `httpStatusOf`, `grpcStatusOf`, `isRetryable`).
 */
export type LooplineErrorCode = 'VALIDATION' | 'NOT_FOUND' | 'ILLEGAL_STATE' | 'CONCURRENCY' | 'UNAVAILABLE' | 'DATA_LOSS';

export abstract class LooplineError extends Error {
  abstract readonly code: LooplineErrorCode;
  constructor(
    message: string,
    /** Structured facts for the client: which field, which expected value. Never secrets. */
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The input is malformed or breaks a rule; retrying the same input fails the same way. */
export class ValidationError extends LooplineError {
  readonly code = 'VALIDATION' as const;
}

/** The addressed thing does not exist. */
export class NotFoundError extends LooplineError {
  readonly code = 'NOT_FOUND' as const;
}

/** The command is well-formed but not allowed in the current state (e.g. aliasing an archived version). */
export class IllegalStateError extends LooplineError {
  readonly code = 'ILLEGAL_STATE' as const;
}

/** Someone else changed the stream first (optimistic concurrency); reload and retry. */
export class ConcurrencyError extends LooplineError {
  readonly code = 'CONCURRENCY' as const;
}

/** A dependency (database, broker, artifact store) cannot be used right now; the client may retry later. */
export class UnavailableError extends LooplineError {
  readonly code = 'UNAVAILABLE' as const;
}

/** Stored bytes no longer match their recorded SHA-256 or size: damaged or altered in storage. */
export class IntegrityError extends LooplineError {
  readonly code = 'DATA_LOSS' as const;
}

export function isLooplineError(error: unknown): error is LooplineError {
  return error instanceof LooplineError;
}
