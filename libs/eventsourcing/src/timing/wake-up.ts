/**
 * An interruptible sleep: `sleep(ms)` resolves after `ms` or as soon as `wake()` is called
 * (a NOTIFY hint, or `stop()`), so a polling loop neither spins nor delays shutdown.
 */
export class WakeUp {
  private pending: { resolve: () => void; timer: NodeJS.Timeout } | undefined;

  sleep(ms: number): Promise<void> {
    this.wake();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        resolve();
      }, ms);
      this.pending = { resolve, timer };
    });
  }

  wake(): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    clearTimeout(pending.timer);
    pending.resolve();
  }
}

/** Exponential backoff with ±50% jitter, so that relays and handlers that failed together do not retry together. */
export function backoffDelay(failures: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const exponential = Math.min(maxMs, initialMs * 2 ** Math.max(0, failures - 1));
  return Math.round(exponential * (0.5 + random()));
}
