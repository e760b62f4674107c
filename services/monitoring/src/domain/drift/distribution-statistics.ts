// The drift statistics that need only aggregated counts (what ClickHouse sends back): χ², the
// two-proportion Z-test, PSI and the Jensen–Shannon distance, each as Evidently 0.7.23 computes it
// (`legacy/calculations/stattests/{chisquare_stattest,z_stattest,psi,jensenshannon,utils}.py`),
// and the Sturges bin count numpy's `histogram_bin_edges(..., bins="sturges")` uses for numerical
// columns.
import { chiSquareSurvival, normalSurvival } from './special-functions';

/** Counts of one value (or bin) in the reference and in the current sample. */
export interface BinCounts {
  readonly reference: number;
  readonly current: number;
}

/**
 * Evidently's χ² test: one bin per value seen on either side, expected = reference count scaled to
 * the current size, observed = current count; scipy's `chisquare` p-value with k − 1 degrees of
 * freedom. A value the reference never had makes the statistic infinite (p = 0), as in scipy.
 */
export function chiSquareTest(bins: readonly BinCounts[], referenceSize: number, currentSize: number): number {
  const scale = currentSize / referenceSize;
  let statistic = 0;
  for (const bin of bins) {
    const expected = bin.reference * scale;
    const difference = bin.current - expected;
    statistic += expected === 0 ? (difference === 0 ? Number.NaN : Number.POSITIVE_INFINITY) : (difference * difference) / expected;
  }
  if (Number.isNaN(statistic)) return Number.NaN;
  return chiSquareSurvival(statistic, bins.length - 1);
}

/**
 * Evidently's Z-test for two proportions: the share of values different from the smallest value
 * (`sorted(keys)[0]`), pooled standard error, two-sided p = 2·(1 − Φ(|z|)); p = 1 when both sides
 * hold one and the same value. `bins` must be ordered by value.
 */
export function zTest(orderedBins: readonly BinCounts[], referenceSize: number, currentSize: number): number {
  const present = orderedBins.filter((bin) => bin.reference + bin.current > 0);
  const first = present[0];
  if (!first) return Number.NaN;
  const onlyValueOnBothSides = present.length === 1 && first.reference > 0 && first.current > 0;
  if (onlyValueOnBothSides) return 1;
  const p1 = (referenceSize - first.reference) / referenceSize;
  const p2 = (currentSize - first.current) / currentSize;
  const pooled = (p1 * referenceSize + p2 * currentSize) / (referenceSize + currentSize);
  const z = (p1 - p2) / Math.sqrt(pooled * (1 - pooled) * (1 / referenceSize + 1 / currentSize));
  if (Number.isNaN(z)) return Number.NaN;
  return 2 * normalSurvival(Math.abs(z));
}

/**
 * Evidently's `get_binned_data(..., feel_zeroes=True)` fill: empty bins take 0.0001 of the mass, or
 * a millionth of the smallest non-empty share when that share is already at most 0.0001.
 */
function fillEmpty(shares: number[]): number[] {
  let smallest = Number.POSITIVE_INFINITY;
  for (const share of shares) if (share !== 0 && share < smallest) smallest = share;
  const fill = smallest <= 0.0001 ? smallest / 10 ** 6 : 0.0001;
  return shares.map((share) => (share === 0 ? fill : share));
}

function shares(bins: readonly BinCounts[], referenceSize: number, currentSize: number): { reference: number[]; current: number[] } {
  return { reference: bins.map((bin) => bin.reference / referenceSize), current: bins.map((bin) => bin.current / currentSize) };
}

/** Population Stability Index: Σ (ref% − cur%) · ln(ref% / cur%), empty bins filled as Evidently does. */
export function populationStabilityIndex(bins: readonly BinCounts[], referenceSize: number, currentSize: number): number {
  const raw = shares(bins, referenceSize, currentSize);
  const reference = fillEmpty(raw.reference);
  const current = fillEmpty(raw.current);
  let sum = 0;
  for (let i = 0; i < reference.length; i += 1) sum += (reference[i]! - current[i]!) * Math.log(reference[i]! / current[i]!);
  return sum;
}

/** x·ln(x/y) with scipy's `rel_entr` conventions. */
function relativeEntropy(x: number, y: number): number {
  if (x > 0 && y > 0) return x * Math.log(x / y);
  if (x === 0 && y >= 0) return 0;
  return Number.POSITIVE_INFINITY;
}

/** scipy's `distance.jensenshannon(ref%, cur%)` (natural log): the square root of the JS divergence. */
export function jensenShannonDistance(bins: readonly BinCounts[], referenceSize: number, currentSize: number): number {
  const raw = shares(bins, referenceSize, currentSize);
  const referenceTotal = raw.reference.reduce((a, b) => a + b, 0);
  const currentTotal = raw.current.reduce((a, b) => a + b, 0);
  let left = 0;
  let right = 0;
  for (let i = 0; i < bins.length; i += 1) {
    const p = raw.reference[i]! / referenceTotal;
    const q = raw.current[i]! / currentTotal;
    const m = (p + q) / 2;
    left += relativeEntropy(p, m);
    right += relativeEntropy(q, m);
  }
  return Math.sqrt((left + right) / 2);
}

/**
 * The number of equal-width bins numpy's `histogram_bin_edges(combined, bins="sturges")` makes:
 * width = range / (log₂ n + 1) (at least 1 for an integer column), bins = ⌈range / width⌉.
 * The edges are then min + i·(range / bins) (numpy's `linspace`), with the last edge = max.
 */
export function sturgesBinCount(combinedSize: number, min: number, max: number, integerValues: boolean): number {
  let first = min;
  let last = max;
  if (first === last) {
    first -= 0.5;
    last += 0.5;
  }
  let width = (max - min) / (Math.log2(combinedSize) + 1);
  if (width === 0) return 1;
  if (integerValues && width < 1) width = 1;
  return Math.ceil((last - first) / width);
}

/** Evidently bins a numerical column into Sturges bins when its reference has more than 20 distinct values. */
export const maxDistinctForValueBins = 20;

/** The Wasserstein distance normed by the reference's standard deviation (floored at 0.001), as Evidently does. */
export function normedWasserstein(distance: number, referenceStd: number): number {
  return distance / Math.max(referenceStd, 0.001);
}
