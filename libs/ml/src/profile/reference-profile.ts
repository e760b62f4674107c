import { getColumn, type Dataset } from '../data/dataset';

/**
 * The reference data profile of the training features (format version 1, the shape the registry
 * checks): per numeric feature its count, missing count, min/max/mean/std, quantiles and a
 * histogram whose bin edges monitoring reuses to bin live traffic (so drift statistics such as
 * PSI compare like with like); per categorical feature the count of every category (the most
 * frequent `maxCategories`, the rest summed under `__other__`).
 *
 * Histogram edges are the deciles of the training values (deduplicated), widened to the observed
 * min and max; bin i is [edges[i], edges[i+1]) and the last bin includes its upper edge.
 */
export interface NumericProfile {
  readonly kind: 'numeric';
  readonly count: number;
  readonly missing: number;
  readonly min?: number;
  readonly max?: number;
  readonly mean?: number;
  readonly std?: number;
  readonly quantiles?: Record<string, number>;
  readonly histogram?: { readonly edges: number[]; readonly counts: number[] };
}

export interface CategoricalProfile {
  readonly kind: 'categorical';
  readonly count: number;
  readonly missing: number;
  readonly frequencies: Record<string, number>;
}

export interface ReferenceProfile {
  readonly formatVersion: 1;
  readonly rowCount: number;
  readonly features: Record<string, NumericProfile | CategoricalProfile>;
}

export const profileQuantiles = [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99] as const;
export const otherCategory = '__other__';

export interface ProfileOptions {
  /** Histogram bins before deduplication of equal edges. Default 10. */
  readonly bins?: number;
  readonly maxCategories?: number;
}

export function referenceProfile(dataset: Dataset, features: readonly string[], options: ProfileOptions = {}): ReferenceProfile {
  const out: Record<string, NumericProfile | CategoricalProfile> = {};
  for (const name of features) {
    const column = getColumn(dataset, name);
    out[name] = column.kind === 'numeric' ? numericProfile(column.values, options.bins ?? 10) : categoricalProfile(column.values, options.maxCategories ?? 100);
  }
  return { formatVersion: 1, rowCount: dataset.rowCount, features: out };
}

export function numericProfile(values: ArrayLike<number>, bins = 10): NumericProfile {
  const present: number[] = [];
  for (let i = 0; i < values.length; i += 1) if (Number.isFinite(values[i])) present.push(values[i]!);
  const missing = values.length - present.length;
  if (present.length === 0) return { kind: 'numeric', count: 0, missing };
  const sorted = Float64Array.from(present).sort();
  const n = sorted.length;
  let sum = 0;
  for (let i = 0; i < n; i += 1) sum += sorted[i]!;
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i += 1) squares += (sorted[i]! - mean) ** 2;
  const quantiles: Record<string, number> = {};
  for (const q of profileQuantiles) quantiles[String(q)] = quantileOfSorted(sorted, q);
  const min = sorted[0]!;
  const max = sorted[n - 1]!;
  const edges: number[] = [min];
  for (let b = 1; b < bins; b += 1) {
    const edge = quantileOfSorted(sorted, b / bins);
    if (edge > edges[edges.length - 1]!) edges.push(edge);
  }
  // A constant feature still gets one bin of non-zero width.
  edges.push(max > edges[edges.length - 1]! ? max : edges[edges.length - 1]! + 1);
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (let i = 0, bin = 0; i < n; i += 1) {
    while (bin < counts.length - 1 && sorted[i]! >= edges[bin + 1]!) bin += 1;
    counts[bin]! += 1;
  }
  return { kind: 'numeric', count: n, missing, min, max, mean, std: Math.sqrt(squares / n), quantiles, histogram: { edges, counts } };
}

export function categoricalProfile(values: readonly (string | null)[], maxCategories = 100): CategoricalProfile {
  const counts = new Map<string, number>();
  let missing = 0;
  for (const value of values) {
    if (value === null) missing += 1;
    else counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  // Most frequent first, ties by name: the same data always gives the same JSON.
  const ranked = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const frequencies: Record<string, number> = {};
  let other = 0;
  for (const [index, [category, count]] of ranked.entries()) {
    if (index < maxCategories && category !== otherCategory) frequencies[category] = count;
    else other += count;
  }
  if (other > 0) frequencies[otherCategory] = other;
  return { kind: 'categorical', count: values.length - missing, missing, frequencies };
}

/** Linear interpolation between closest ranks (NumPy's default, `linear`). */
export function quantileOfSorted(sorted: ArrayLike<number>, q: number): number {
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const weight = position - lower;
  return sorted[lower]! * (1 - weight) + sorted[upper]! * weight;
}
