import type { LooplineErrorCode } from './errors';

/** HTTP status of each error code: the one place this mapping lives. */
export function httpStatusOf(code: LooplineErrorCode): number {
  switch (code) {
    case 'VALIDATION':
      return 400;
    case 'NOT_FOUND':
      return 404;
    case 'ILLEGAL_STATE':
      return 409;
    case 'CONCURRENCY':
      return 409;
    case 'UNAVAILABLE':
      return 503;
    case 'DATA_LOSS':
      return 500;
    default: {
      const unreachable: never = code;
      throw new Error(`unmapped error code ${String(unreachable)}`);
    }
  }
}

/** gRPC status codes (numeric, as in grpc/status.proto) of each error code. */
export function grpcStatusOf(code: LooplineErrorCode): number {
  switch (code) {
    case 'VALIDATION':
      return 3; // INVALID_ARGUMENT
    case 'NOT_FOUND':
      return 5; // NOT_FOUND
    case 'ILLEGAL_STATE':
      return 9; // FAILED_PRECONDITION
    case 'CONCURRENCY':
      return 10; // ABORTED: the client should retry the read-modify-write
    case 'UNAVAILABLE':
      return 14; // UNAVAILABLE: retry with backoff
    case 'DATA_LOSS':
      return 15; // DATA_LOSS
    default: {
      const unreachable: never = code;
      throw new Error(`unmapped error code ${String(unreachable)}`);
    }
  }
}

/** Whether a Kafka consumer should retry a message that failed with this code, or dead-letter it. */
export function isRetryable(code: LooplineErrorCode): boolean {
  return code === 'CONCURRENCY' || code === 'UNAVAILABLE';
}
