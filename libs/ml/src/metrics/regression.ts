/** Metrics of a regressor, as scikit-learn defines them (R² is 1 − SSres/SStot; NaN when the target is constant). */
export interface RegressionMetrics {
  readonly rmse: number;
  readonly mae: number;
  readonly r2: number;
}

export function regressionMetrics(targets: ArrayLike<number>, predictions: ArrayLike<number>): RegressionMetrics {
  if (targets.length !== predictions.length) throw new RangeError(`${targets.length} targets but ${predictions.length} predictions`);
  const n = targets.length;
  if (n === 0) return { rmse: Number.NaN, mae: Number.NaN, r2: Number.NaN };
  let mean = 0;
  for (let i = 0; i < n; i += 1) mean += targets[i]!;
  mean /= n;
  let squared = 0;
  let absolute = 0;
  let total = 0;
  for (let i = 0; i < n; i += 1) {
    const error = targets[i]! - predictions[i]!;
    squared += error * error;
    absolute += Math.abs(error);
    total += (targets[i]! - mean) ** 2;
  }
  return { rmse: Math.sqrt(squared / n), mae: absolute / n, r2: total === 0 ? Number.NaN : 1 - squared / total };
}
