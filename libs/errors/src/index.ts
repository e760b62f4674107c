export {
  ConcurrencyError,
  IllegalStateError,
  IntegrityError,
  isLooplineError,
  LooplineError,
  NotFoundError,
  UnavailableError,
  ValidationError,
  type LooplineErrorCode,
} from './errors';
export { grpcStatusOf, httpStatusOf, isRetryable } from './status';
