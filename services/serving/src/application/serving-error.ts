/**
 * Failures particular to serving, beside the platform vocabulary of `@loopline/errors`
 * (`ValidationError` → 400 / INVALID_ARGUMENT, `NotFoundError` → 404 / NOT_FOUND). Each code maps to
 * one HTTP status and one gRPC status in exactly one place per transport
 * (adapters/http/oip-errors.ts, adapters/grpc/oip-grpc-errors.ts).
 *
 * - `OVERLOADED`: the in-flight bound is reached; rejected at once. Client: retry after a pause
 *   (REST 503 + Retry-After, gRPC RESOURCE_EXHAUSTED).
 * - `NOT_READY`: the initial model load has not finished (REST 503, gRPC UNAVAILABLE).
 * - `DEADLINE_EXCEEDED`: the request's deadline passed while it was queued; it was never run
 *   (REST 503 + Retry-After, gRPC DEADLINE_EXCEEDED).
 * - `INFERENCE_FAILED`: the runtime failed on input that passed validation (REST 500, gRPC INTERNAL).
 * - `UNSUPPORTED`: the request uses a protocol feature this server does not implement
 *   (REST 400, gRPC UNIMPLEMENTED).
 */
export type ServingErrorCode = 'OVERLOADED' | 'NOT_READY' | 'DEADLINE_EXCEEDED' | 'INFERENCE_FAILED' | 'UNSUPPORTED';

export class ServingError extends Error {
  constructor(
    readonly code: ServingErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ServingError';
  }
}

/** Why a model version could not be loaded; mirrors `ModelLoadFailureReason` of the contract. */
export type LoadFailureReason = 'ARTIFACT_NOT_FOUND' | 'CHECKSUM_MISMATCH' | 'INVALID_MODEL' | 'SIGNATURE_MISMATCH' | 'WARMUP_FAILED';

export class ModelLoadError extends Error {
  constructor(
    readonly reason: LoadFailureReason,
    message: string,
  ) {
    super(message);
    this.name = 'ModelLoadError';
  }
}
