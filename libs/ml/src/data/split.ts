import { Prng } from '../random/prng';
import { DatasetError, getColumn, type Dataset } from './dataset';

/**
 * How the training set is divided into the rows a model learns from and the held-out rows it is
 * evaluated on.
 * - `random`: a seeded shuffle; `holdoutFraction` of the rows are held out.
 * - `time`: rows ordered by `timeColumn` (numeric, e.g. epoch milliseconds); the latest
 *   `holdoutFraction` are held out, or, with `cutoff`, every row at or after it. Ties keep their
 *   original order, so the split is deterministic.
 */
export type SplitSpec =
  | { readonly kind: 'random'; readonly holdoutFraction: number; readonly seed: number }
  | { readonly kind: 'time'; readonly timeColumn: string; readonly holdoutFraction?: number; readonly cutoff?: number };

export interface Split {
  readonly train: Uint32Array;
  readonly holdout: Uint32Array;
}

export function splitRows(dataset: Dataset, spec: SplitSpec): Split {
  const n = dataset.rowCount;
  if (n < 2) throw new DatasetError(`a split needs at least 2 rows, the dataset has ${n}`);
  if (spec.kind === 'random') {
    checkFraction(spec.holdoutFraction);
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i += 1) order[i] = i;
    new Prng(spec.seed).shuffle(order);
    const holdoutCount = clampCount(Math.round(n * spec.holdoutFraction), n);
    // Each part back in row order, so training sees rows in the source's order whatever the seed.
    return { holdout: order.slice(0, holdoutCount).sort(), train: order.slice(holdoutCount).sort() };
  }
  const column = getColumn(dataset, spec.timeColumn);
  if (column.kind !== 'numeric') throw new DatasetError(`time column "${spec.timeColumn}" must be numeric (e.g. epoch milliseconds)`);
  const times = column.values;
  const order = Array.from({ length: n }, (_, index) => index);
  order.sort((a, b) => {
    const ta = times[a]!;
    const tb = times[b]!;
    const ka = Number.isNaN(ta) ? -Infinity : ta;
    const kb = Number.isNaN(tb) ? -Infinity : tb;
    return ka === kb ? a - b : ka - kb;
  });
  let holdoutCount: number;
  if (spec.cutoff !== undefined) {
    holdoutCount = order.filter((index) => times[index]! >= spec.cutoff!).length;
    if (holdoutCount === 0 || holdoutCount === n) throw new DatasetError(`time cutoff ${spec.cutoff} leaves ${holdoutCount === 0 ? 'no holdout' : 'no training'} rows`);
  } else {
    const fraction = spec.holdoutFraction ?? 0.2;
    checkFraction(fraction);
    holdoutCount = clampCount(Math.round(n * fraction), n);
  }
  const cut = n - holdoutCount;
  return { train: Uint32Array.from(order.slice(0, cut)), holdout: Uint32Array.from(order.slice(cut)) };
}

function checkFraction(fraction: number): void {
  if (!(fraction > 0 && fraction < 1)) throw new DatasetError(`holdoutFraction must be between 0 and 1 (exclusive), got ${fraction}`);
}

function clampCount(count: number, n: number): number {
  return Math.min(n - 1, Math.max(1, count));
}
