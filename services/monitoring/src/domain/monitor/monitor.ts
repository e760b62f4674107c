// A monitor: what to watch on one model (the version an alias points at, or a pinned version),
// over which windows, with which thresholds. Pure: parsing of durations, defaults, the decision
// of what an evaluation means for the monitor's open alert.

export type WindowSpec = { readonly kind: 'count'; readonly size: number } | { readonly kind: 'time'; readonly size: string };

export type DriftMethod = 'auto' | 'ks' | 'chisquare' | 'psi' | 'jensenshannon' | 'wasserstein';
export type PerformanceMetric = 'accuracy' | 'roc_auc' | 'log_loss' | 'precision' | 'recall' | 'f1' | 'rmse' | 'mae';
export type Severity = 'warning' | 'critical';

export interface DriftSpec {
  /** Features tested; absent: every numeric and string model input seen in the reference. */
  readonly features?: readonly string[];
  readonly method: DriftMethod;
  /** Per-method default (Evidently's) when absent. */
  readonly threshold?: number;
  readonly driftShare: number;
  /** Also test the model's score (or regression value) against the version's first window. */
  readonly predictionDrift: boolean;
}

export interface PerformanceSpec {
  readonly metric: PerformanceMetric;
  readonly threshold: number;
  readonly targetName: string;
  /** How long labels take to arrive: a window is judged only once this much time passed after its end. */
  readonly labelDelay: string;
  /** Fewer labelled predictions than this: the window is not judged. */
  readonly minLabelled: number;
}

export interface SloSpec {
  readonly latencyP99Ms?: number;
  readonly errorRate?: number;
}

export interface MonitorSpec {
  readonly name: string;
  readonly modelName: string;
  /** The alias followed (default `champion`), unless `version` pins one. */
  readonly alias: string | null;
  readonly version: number | null;
  readonly window: WindowSpec;
  readonly drift: DriftSpec | null;
  readonly performance: PerformanceSpec | null;
  readonly slo: SloSpec | null;
  readonly severity: Severity;
  /**
   * While its alert stays open and windows keep breaching, the alert is announced again this long
   * after its last announcement (Alertmanager's repeat interval), so a retraining whose candidate
   * was refused gets another chance on fresher data. Absent in monitors stored before it existed.
   */
  readonly repeatAfter?: string;
}

export const defaultDriftShare = 0.5;
export const defaultMinLabelled = 100;
export const defaultLabelDelay = '0s';
export const defaultRepeatAfter = '30m';

/** Which way each metric improves. */
export function higherIsBetter(metric: PerformanceMetric | 'latency_p99_ms' | 'error_rate'): boolean {
  switch (metric) {
    case 'accuracy':
    case 'roc_auc':
    case 'precision':
    case 'recall':
    case 'f1':
      return true;
    case 'log_loss':
    case 'rmse':
    case 'mae':
    case 'latency_p99_ms':
    case 'error_rate':
      return false;
    default: {
      const unknown: never = metric;
      throw new Error(`unknown metric ${String(unknown)}`);
    }
  }
}

export function isClassificationMetric(metric: PerformanceMetric): boolean {
  return metric !== 'rmse' && metric !== 'mae';
}

const durationUnits: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `90s`, `15m`, `6h`, `1d`, `1w` (or `1h30m`) → milliseconds; `undefined` when malformed. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^(\d+(ms|s|m|h|d|w))+$/.test(trimmed)) return undefined;
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(/(\d+)(ms|s|m|h|d|w)/g)) total += Number(amount) * durationUnits[unit!]!;
  return total;
}

/**
 * A half-open window [startMs, endMs) of prediction time, or `size` predictions from `offset` in
 * prediction order (window k of a count monitor starts at k × size).
 */
export type WindowRef =
  | { readonly kind: 'time'; readonly startMs: number; readonly endMs: number }
  | { readonly kind: 'count'; readonly offset: number; readonly size: number };

/** The time windows, aligned on multiples of the size since the epoch, that lie within [fromMs, toMs). */
export function timeWindows(sizeMs: number, fromMs: number, toMs: number): WindowRef[] {
  const windows: WindowRef[] = [];
  for (let start = Math.floor(fromMs / sizeMs) * sizeMs; start + sizeMs <= toMs && windows.length < 10_000; start += sizeMs) {
    if (start >= fromMs || start + sizeMs > fromMs) windows.push({ kind: 'time', startMs: start, endMs: start + sizeMs });
  }
  return windows;
}

/** The last closed time window at `nowMs` that may be judged (its labels had `delayMs` to arrive). */
export function lastClosedWindow(sizeMs: number, nowMs: number, delayMs: number): WindowRef {
  const end = Math.floor((nowMs - delayMs) / sizeMs) * sizeMs;
  return { kind: 'time', startMs: end - sizeMs, endMs: end };
}
