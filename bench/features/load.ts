// Load generators of the features benchmark: closed loop at a fixed concurrency, and open loop at
// a fixed arrival rate (latency measured from each request's scheduled time, so a slow server
// cannot hide queueing: no coordinated omission). Every loop is bounded in count and time.

export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
  /** Requests the open loop could not send because too many were in flight. */
  readonly dropped?: number;
}

export type Call = () => Promise<void>;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function summarize(latencies: number[], errors: number, seconds: number, dropped?: number): LoadResult {
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    errors,
    seconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    p999Ms: percentile(latencies, 0.999),
    maxMs: latencies.at(-1) ?? Number.NaN,
    dropped,
  };
}

export async function closedLoop(call: Call, concurrency: number, seconds: number, maxRequests = 2_000_000): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let started = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline && started < maxRequests) {
      started += 1;
      const sent = performance.now();
      try {
        await call();
        latencies.push(performance.now() - sent);
      } catch {
        errors += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return summarize(latencies, errors, (performance.now() - start) / 1000);
}

export async function openLoop(call: Call, ratePerSecond: number, seconds: number, maxInFlight = 512): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let dropped = 0;
  let inFlight = 0;
  const total = Math.round(ratePerSecond * seconds);
  const intervalMs = 1000 / ratePerSecond;
  const start = performance.now();
  const pending: Promise<void>[] = [];
  for (let index = 0; index < total; index += 1) {
    const scheduled = start + index * intervalMs;
    const wait = scheduled - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    else if (index % 64 === 0) await new Promise((resolve) => setImmediate(resolve));
    if (inFlight >= maxInFlight) {
      dropped += 1;
      continue;
    }
    inFlight += 1;
    // From the scheduled time, or from the send when the loop is early (it does not sleep for
    // less than a millisecond): never shorter than the request itself took.
    const from = Math.min(scheduled, performance.now());
    pending.push(
      call().then(
        () => {
          latencies.push(performance.now() - from);
          inFlight -= 1;
        },
        () => {
          errors += 1;
          inFlight -= 1;
        },
      ),
    );
  }
  await Promise.all(pending);
  return summarize(latencies, errors, (performance.now() - start) / 1000, dropped);
}
