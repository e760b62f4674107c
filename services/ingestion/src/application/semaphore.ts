/** At most `permits` holders at once; the others wait in arrival order. */
export class Semaphore {
  private available: number;
  private readonly waiting: (() => void)[] = [];

  constructor(permits: number) {
    if (!Number.isSafeInteger(permits) || permits < 1) throw new Error(`a semaphore needs at least one permit, not ${permits}`);
    this.available = permits;
  }

  /** Resolves with the function that gives the permit back (call it exactly once). */
  async acquire(): Promise<() => void> {
    if (this.available > 0) {
      this.available -= 1;
    } else {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.available += 1;
    };
  }
}
