export { ConcurrencyError, IllegalStateError, isLooplineError, LooplineError, NotFoundError, ValidationError, type LooplineErrorCode } from './errors';
export { grpcStatusOf, httpStatusOf, isRetryable } from './status';
