/**
 * Failures raised by `@loopline/messaging` itself (not by handlers). One class, one code union:
 * callers branch on `code`, and `isMessagingErrorRetryable` says whether trying again can help.
 */
export type MessagingErrorCode =
  /** A handler did not settle within `handlerTimeoutMs`; it was told to abort through its signal. */
  | 'HANDLER_TIMEOUT'
  /**
   * The idempotent producer hit a fatal sequence error (or a timeout that leaves the sequence state
   * unknown) and was re-created. Whether the batch was written is unknown: publish again and let
   * consumers deduplicate by event id.
   */
  | 'PRODUCER_RESET'
  /** A topic the caller relies on (a dead-letter topic, usually) does not exist; provision it first. */
  | 'TOPIC_MISSING'
  /** The subscription or producer options contradict each other (e.g. a handler timeout longer than the session). */
  | 'INVALID_OPTIONS'
  /** The consumer or producer was used after `stop()`/`disconnect()`. */
  | 'STOPPED';

export class MessagingError extends Error {
  constructor(
    readonly code: MessagingErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MessagingError';
  }
}

export function isMessagingErrorRetryable(code: MessagingErrorCode): boolean {
  switch (code) {
    case 'HANDLER_TIMEOUT':
    case 'PRODUCER_RESET':
      return true;
    case 'TOPIC_MISSING':
    case 'INVALID_OPTIONS':
    case 'STOPPED':
      return false;
    default: {
      const unreachable: never = code;
      throw new Error(`unmapped messaging error code ${String(unreachable)}`);
    }
  }
}
