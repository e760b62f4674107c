import { ServingError } from './serving-error';

/**
 * The bound on requests admitted at once (queued or running), across every model. Past it a
 * request is refused immediately with `OVERLOADED` rather than queued to time out later (REFERENCE
 * 6.5: an unbounded queue turns overload into latency for everyone).
 */
export class Admission {
  private inFlight = 0;

  constructor(
    private readonly maxInFlight: number,
    private readonly onRejected: () => void = () => undefined,
  ) {}

  get current(): number {
    return this.inFlight;
  }

  /** Admits one request or throws `OVERLOADED`; pair with `leave()`. */
  enter(): void {
    if (!this.tryEnter()) {
      this.onRejected();
      throw new ServingError('OVERLOADED', `the server is at its limit of ${this.maxInFlight} requests in flight; retry shortly`);
    }
  }

  /** Admits one request if there is room (shadow traffic uses this: it is skipped, never queued). */
  tryEnter(): boolean {
    if (this.inFlight >= this.maxInFlight) return false;
    this.inFlight++;
    return true;
  }

  leave(): void {
    this.inFlight--;
  }
}
