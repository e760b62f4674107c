import { MessagingError } from './messaging-error';

/**
 * Runs `work` with a deadline. On expiry the signal handed to `work` is aborted and the returned
 * promise rejects with `HANDLER_TIMEOUT` at once, without waiting for `work`: a handler stuck on a
 * dead connection must not hold the partition (and its group membership) hostage — kafkajs#447.
 * Work that ignores the signal may still finish later; handlers are idempotent (inbox) for that
 * reason among others.
 */
export async function runWithTimeout<T>(work: (signal: AbortSignal) => Promise<T>, timeoutMs: number): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new MessagingError('HANDLER_TIMEOUT', `handler did not finish within ${timeoutMs} ms`);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  const running = Promise.resolve().then(() => work(controller.signal));
  // The loser of the race must not surface later as an unhandled rejection.
  running.catch(() => undefined);
  try {
    return await Promise.race([running, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Waits `ms`, or less if `signal` aborts first. Resolves `true` when the full delay elapsed.
 * Used for backoff, which `stop()` must be able to cut short.
 */
export function abortableDelay(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
