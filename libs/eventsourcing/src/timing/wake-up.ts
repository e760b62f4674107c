/**
 * An interruptible sleep: `sleep(ms)` resolves after `ms` or as soon as `wake()` is called
 * (a NOTIFY hint, or `stop()`), so a polling loop neither spins nor delays shutdown.
 */
export class WakeUp {
  private pending: { resolve: () => void; timer: NodeJS.Timeout } | undefined;
  /** A wake() that came while nobody slept: the next sleep returns at once, so no signal is lost. */
  private signalled = false;

  sleep(ms: number): Promise<void> {
    this.resolvePending();
    if (this.signalled) {
      this.signalled = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        resolve();
      }, ms);
      this.pending = { resolve, timer };
    });
  }

  wake(): void {
    if (!this.resolvePending()) this.signalled = true;
  }

  private resolvePending(): boolean {
    const pending = this.pending;
    if (!pending) return false;
    this.pending = undefined;
    clearTimeout(pending.timer);
    pending.resolve();
    return true;
  }
}

/** Exponential backoff with ±50% jitter, so that relays and handlers that failed together do not retry together. */
export function backoffDelay(failures: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const exponential = Math.min(maxMs, initialMs * 2 ** Math.max(0, failures - 1));
  return Math.round(exponential * (0.5 + random()));
}
