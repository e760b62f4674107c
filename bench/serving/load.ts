// Load loops of the serving benchmark, bounded in count and time. Closed loop: `concurrency`
// callers, each sending its next request when the previous answer arrived. Open loop: requests
// issued on a fixed schedule whatever the answers do; a send that leaves more than `lateAfterMs`
// behind its scheduled time is counted late, and latency is given both from the moment the request
// was issued and from its scheduled time (the second includes the client's own timer lag).

export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly firstError?: string;
  /** Open loop only. */
  readonly open?: {
    readonly scheduled: number;
    readonly late: number;
    /** Not sent because `maxInFlight` requests were already waiting. */
    readonly dropped: number;
    readonly p99FromScheduleMs: number;
    readonly maxLateMs: number;
  };
}

export type Call = () => Promise<void>;

const maxSamples = 4_000_000;

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

function describe(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 300);
}

export async function closedLoop(call: Call, concurrency: number, seconds: number): Promise<LoadResult> {
  const latencies = new Float64Array(maxSamples);
  let count = 0;
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  const caller = async () => {
    while (count + errors < maxSamples) {
      const sent = performance.now();
      if (sent >= deadline) return;
      try {
        await call();
        latencies[count++] = performance.now() - sent;
      } catch (error) {
        errors += 1;
        firstError ??= describe(error);
        // A server that refuses at once must not turn the loop into a spin.
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
  const elapsed = (performance.now() - start) / 1000;
  const sorted = latencies.subarray(0, count).sort();
  return { requests: count, errors, seconds: elapsed, p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99), firstError };
}

export async function openLoop(call: Call, ratePerSecond: number, seconds: number, maxInFlight = 1_024, lateAfterMs = 1): Promise<LoadResult> {
  const total = Math.min(maxSamples, Math.round(ratePerSecond * seconds));
  const intervalMs = 1000 / ratePerSecond;
  const fromSend = new Float64Array(total);
  const fromSchedule = new Float64Array(total);
  let count = 0;
  let errors = 0;
  let late = 0;
  let dropped = 0;
  let maxLateMs = 0;
  let inFlight = 0;
  let firstError: string | undefined;
  let issued = 0;
  let allAnswered: () => void = () => undefined;
  const answered = new Promise<void>((resolve) => (allAnswered = resolve));
  let settled = 0;
  const settle = () => {
    inFlight -= 1;
    settled += 1;
    if (settled === issued && issued + dropped === total) allAnswered();
  };
  const start = performance.now();
  let next = 0;
  while (next < total) {
    const now = performance.now();
    const due = Math.min(total, Math.floor((now - start) / intervalMs) + 1);
    for (; next < due; next += 1) {
      const scheduled = start + next * intervalMs;
      const behind = now - scheduled;
      if (behind > lateAfterMs) late += 1;
      if (behind > maxLateMs) maxLateMs = behind;
      if (inFlight >= maxInFlight) {
        dropped += 1;
        continue;
      }
      inFlight += 1;
      issued += 1;
      const sent = performance.now();
      call().then(
        () => {
          const done = performance.now();
          fromSend[count] = done - sent;
          fromSchedule[count] = done - scheduled;
          count += 1;
          settle();
        },
        (error: unknown) => {
          errors += 1;
          firstError ??= describe(error);
          settle();
        },
      );
    }
    if (next < total) await new Promise((resolve) => setTimeout(resolve, Math.max(0, start + next * intervalMs - performance.now())));
  }
  if (settled < issued) await answered;
  const elapsed = (performance.now() - start) / 1000;
  const sent = fromSend.subarray(0, count).sort();
  const scheduled = fromSchedule.subarray(0, count).sort();
  return {
    requests: count,
    errors,
    seconds: elapsed,
    p50Ms: percentile(sent, 0.5),
    p99Ms: percentile(sent, 0.99),
    firstError,
    open: { scheduled: total, late, dropped, p99FromScheduleMs: percentile(scheduled, 0.99), maxLateMs },
  };
}
