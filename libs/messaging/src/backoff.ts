/** How long to wait between handler attempts: exponential, capped, with jitter. */
export interface BackoffPolicy {
  /** Delay before the 2nd attempt. */
  readonly initialDelayMs: number;
  /** Upper bound of any delay, jitter included. */
  readonly maxDelayMs: number;
  /** Growth per attempt; 2 doubles the delay each time. */
  readonly multiplier: number;
  /**
   * Fraction of the delay drawn at random (0 = none, 1 = anywhere in [0, delay]). Spreads the
   * retries of many consumers that failed on the same outage so they do not hit it in step.
   */
  readonly jitter: number;
}

export const defaultBackoff: BackoffPolicy = { initialDelayMs: 200, maxDelayMs: 10_000, multiplier: 2, jitter: 0.2 };

/**
 * Delay before attempt `failedAttempt + 1`, given that attempt `failedAttempt` (1-based) failed.
 * `random` is injected so the schedule is testable.
 */
export function backoffDelayMs(policy: BackoffPolicy, failedAttempt: number, random: () => number = Math.random): number {
  const exponential = policy.initialDelayMs * policy.multiplier ** Math.max(0, failedAttempt - 1);
  const capped = Math.min(exponential, policy.maxDelayMs);
  const jitter = Math.min(Math.max(policy.jitter, 0), 1);
  return Math.round(capped * (1 - jitter * random()));
}
