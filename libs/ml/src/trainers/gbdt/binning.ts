import { Prng } from '../../random/prng';

/**
 * Quantile binning of one feature into at most `maxBins` bins (LightGBM's histogram approach).
 * `upperEdges[b]` is the inclusive float32 upper bound of bin b (the last is +Infinity); a value
 * goes to the first bin whose edge it does not exceed, so "bin ≤ s" is exactly "x ≤ upperEdges[s]"
 * — the `BRANCH_LEQ` test the ONNX tree runs. NaN goes to the extra bin `missingBin` (= bin count).
 */
export interface BinMapper {
  readonly upperEdges: Float32Array;
  readonly binCount: number;
  readonly missingBin: number;
}

export function fitBinMapper(values: Float32Array, rows: ArrayLike<number>, maxBins: number, sampleSize: number, seed: number): BinMapper {
  // Edges come from a seeded sample of at most `sampleSize` present values (LightGBM: 200k).
  const sample: number[] = [];
  const stride = rows.length <= sampleSize ? 1 : rows.length / sampleSize;
  if (stride === 1) {
    for (let i = 0; i < rows.length; i += 1) {
      const value = values[rows[i]!]!;
      if (!Number.isNaN(value)) sample.push(value);
    }
  } else {
    const prng = new Prng(seed);
    for (let k = 0; k < sampleSize; k += 1) {
      const value = values[rows[Math.min(rows.length - 1, Math.floor(k * stride + prng.nextFloat() * stride))]!]!;
      if (!Number.isNaN(value)) sample.push(value);
    }
  }
  const sorted = Float32Array.from(sample).sort();
  const distinct: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < sorted.length; i += 1) {
    if (i === 0 || sorted[i] !== sorted[i - 1]) {
      distinct.push(sorted[i]!);
      counts.push(1);
    } else counts[counts.length - 1]! += 1;
  }
  const edges: number[] = [];
  if (distinct.length <= maxBins) {
    for (let i = 0; i + 1 < distinct.length; i += 1) edges.push(boundary(distinct[i]!, distinct[i + 1]!));
  } else {
    // Greedy equal-frequency bins over the distinct values: close a bin once it holds its share
    // of what remains.
    let remaining = sorted.length;
    let inBin = 0;
    for (let i = 0; i + 1 < distinct.length && edges.length < maxBins - 1; i += 1) {
      inBin += counts[i]!;
      const binsLeft = maxBins - edges.length;
      if (inBin >= remaining / binsLeft) {
        edges.push(boundary(distinct[i]!, distinct[i + 1]!));
        remaining -= inBin;
        inBin = 0;
      }
    }
  }
  edges.push(Number.POSITIVE_INFINITY);
  const upperEdges = Float32Array.from(edges);
  return { upperEdges, binCount: upperEdges.length, missingBin: upperEdges.length };
}

/** A float32 value in [lower, upper): the midpoint when float32 can hold it, else `lower`. */
function boundary(lower: number, upper: number): number {
  const middle = Math.fround((lower + upper) / 2);
  return middle >= lower && middle < upper ? middle : lower;
}

/** The bin of each value (all rows), into `out` with stride `stride` at `offset` (row-major bins). */
export function binValues(mapper: BinMapper, values: Float32Array, out: Uint8Array, stride: number, offset: number): void {
  const edges = mapper.upperEdges;
  const last = edges.length - 1;
  for (let r = 0; r < values.length; r += 1) {
    const value = values[r]!;
    let bin: number;
    if (Number.isNaN(value)) bin = mapper.missingBin;
    else {
      let lo = 0;
      let hi = last;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (value <= edges[mid]!) hi = mid;
        else lo = mid + 1;
      }
      bin = lo;
    }
    out[r * stride + offset] = bin;
  }
}
