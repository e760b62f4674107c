// Distances between two versions' distributions, computed from their stored profiles alone (no
// second read of the old data):
// - numeric columns from the 101 exact quantiles each profile keeps: the cumulative distribution
//   is interpolated between quantiles, so the resolution is 1% of the rows;
//   * KS: the largest gap between the two cumulative distributions (Kolmogorov-Smirnov statistic),
//   * PSI: Σ (cur − ref) · ln(cur / ref) over the reference's deciles (Evidently's formula, with
//     empty shares replaced by 0.0001);
// - categorical columns from the category counts:
//   * L-infinity: the largest change of one category's share (TFDV's `infinity_norm`),
//   * Jensen-Shannon distance: √JSD with the natural logarithm (scipy's `jensenshannon`).
import type { CategoryCount } from './profile';

const emptyShare = 0.0001;

/** F(x): the share of values ≤ x, read from quantiles at evenly spaced probabilities. */
export function cumulativeShare(quantiles: readonly number[], x: number): number {
  const last = quantiles.length - 1;
  if (last < 1) return 0;
  if (x < quantiles[0]!) return 0;
  if (x >= quantiles[last]!) return 1;
  // The last quantile ≤ x: with ties (a value holding many rows) this is the top of the tie.
  let low = 0;
  let high = last;
  while (high - low > 1) {
    const middle = (low + high) >> 1;
    if (quantiles[middle]! <= x) low = middle;
    else high = middle;
  }
  const below = quantiles[low]!;
  const above = quantiles[high]!;
  const within = above > below ? (x - below) / (above - below) : 0;
  return (low + within) / last;
}

/** Kolmogorov-Smirnov statistic: max |F_ref(x) − F_cur(x)| over both sets of quantiles. */
export function ksStatistic(reference: readonly number[], current: readonly number[]): number {
  let largest = 0;
  for (const x of [...reference, ...current]) {
    largest = Math.max(largest, Math.abs(cumulativeShare(reference, x) - cumulativeShare(current, x)));
  }
  return largest;
}

/** Population stability index over the reference's deciles. */
export function populationStabilityIndex(reference: readonly number[], current: readonly number[]): number {
  const last = reference.length - 1;
  const edges = [...new Set(Array.from({ length: 9 }, (_, index) => reference[Math.round(((index + 1) * last) / 10)]!))].sort((a, b) => a - b);
  const shares = (quantiles: readonly number[]) => {
    const cumulative = [0, ...edges.map((edge) => cumulativeShare(quantiles, edge)), 1];
    return cumulative.slice(1).map((value, index) => Math.max(0, value - cumulative[index]!));
  };
  return psiOfShares(shares(reference), shares(current));
}

export function psiOfShares(reference: readonly number[], current: readonly number[]): number {
  let psi = 0;
  for (let index = 0; index < reference.length; index += 1) {
    const ref = reference[index]! > 0 ? reference[index]! : emptyShare;
    const cur = current[index]! > 0 ? current[index]! : emptyShare;
    psi += (cur - ref) * Math.log(cur / ref);
  }
  return psi;
}

/** Shares of each category (the rest of the values as one more bucket), over two profiles' union. */
function categoryShares(
  reference: { readonly top: readonly CategoryCount[]; readonly other: number },
  current: { readonly top: readonly CategoryCount[]; readonly other: number },
): { reference: number[]; current: number[] } {
  const keys = [...new Set([...reference.top.map((entry) => entry.value), ...current.top.map((entry) => entry.value)])];
  const sharesOf = (side: { readonly top: readonly CategoryCount[]; readonly other: number }) => {
    const counts = new Map(side.top.map((entry) => [entry.value, entry.count]));
    const total = side.top.reduce((sum, entry) => sum + entry.count, 0) + side.other;
    if (total === 0) return keys.map(() => 0).concat(0);
    return keys.map((key) => (counts.get(key) ?? 0) / total).concat(side.other / total);
  };
  return { reference: sharesOf(reference), current: sharesOf(current) };
}

export function lInfinityDistance(
  reference: { readonly top: readonly CategoryCount[]; readonly other: number },
  current: { readonly top: readonly CategoryCount[]; readonly other: number },
): number {
  const shares = categoryShares(reference, current);
  return shares.reference.reduce((largest, share, index) => Math.max(largest, Math.abs(share - shares.current[index]!)), 0);
}

export function jensenShannonDistance(
  reference: { readonly top: readonly CategoryCount[]; readonly other: number },
  current: { readonly top: readonly CategoryCount[]; readonly other: number },
): number {
  const shares = categoryShares(reference, current);
  let divergence = 0;
  shares.reference.forEach((p, index) => {
    const q = shares.current[index]!;
    const m = (p + q) / 2;
    if (p > 0) divergence += (p * Math.log(p / m)) / 2;
    if (q > 0) divergence += (q * Math.log(q / m)) / 2;
  });
  return Math.sqrt(Math.max(0, divergence));
}
