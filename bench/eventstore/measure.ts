import { performance } from 'node:perf_hooks';

export interface LoopResult {
  readonly operations: number;
  readonly elapsedMs: number;
  readonly perSecond: number;
  readonly latenciesMs: readonly number[];
}

/**
 * Runs `workers` closed loops of `operation` for `durationMs` and counts completed operations.
 * Prints the running rate every second so a slow run shows itself.
 */
export async function runClosedLoop(
  label: string,
  durationMs: number,
  workers: number,
  operation: (worker: number, iteration: number) => Promise<void>,
): Promise<LoopResult> {
  const latenciesMs: number[] = [];
  let operations = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  const progress = setInterval(() => {
    const seconds = (performance.now() - started) / 1000;
    console.log(`    ${label}: ${seconds.toFixed(0)} s, ${operations.toLocaleString('en-US')} ops (${Math.round(operations / seconds).toLocaleString('en-US')}/s)`);
  }, 1000);
  try {
    await Promise.all(
      Array.from({ length: workers }, async (_, worker) => {
        for (let iteration = 0; performance.now() < deadline; iteration += 1) {
          const begin = performance.now();
          await operation(worker, iteration);
          latenciesMs.push(performance.now() - begin);
          operations += 1;
        }
      }),
    );
  } finally {
    clearInterval(progress);
  }
  const elapsedMs = performance.now() - started;
  return { operations, elapsedMs, perSecond: (operations * 1000) / elapsedMs, latenciesMs };
}

/** The p-th percentile (0–100) by nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** Polls `probe` until it returns true or `timeoutMs` passes; returns whether it did. */
export async function waitUntil(probe: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 5): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await probe()) return true;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return probe();
}

export function formatNumber(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
