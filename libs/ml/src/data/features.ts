import { DatasetError, getColumn, type Dataset } from './dataset';

/**
 * How a training column becomes a model input. Numeric features enter as float32 (the ONNX input
 * type). Categorical features are **target-encoded**: each category becomes the smoothed mean of
 * the label over the training rows (`(sum + prior · m) / (count + m)`, m = `smoothing`), a float
 * that linear models use directly and trees split on as an ordered value (categories sorted by
 * their label rate, the static form of LightGBM's gradient-sorted categorical splits). Unknown or
 * missing categories become NaN: trees route them along the learned missing-value branch, linear
 * models impute the training mean. Inside the ONNX model the encoding is an `ai.onnx.ml`
 * `LabelEncoder` per categorical input, so callers send the raw strings.
 */
export type FeatureSpec =
  | { readonly name: string; readonly kind: 'numeric' }
  | { readonly name: string; readonly kind: 'categorical'; readonly categories: readonly string[]; readonly codes: Float32Array };

export interface FeatureEncoding {
  readonly features: readonly FeatureSpec[];
}

export function fitFeatureEncoding(dataset: Dataset, features: readonly string[], labels: ArrayLike<number>, smoothing = 20): FeatureEncoding {
  if (features.length === 0) throw new DatasetError('at least one feature column is needed');
  let prior = 0;
  for (let i = 0; i < labels.length; i += 1) prior += labels[i]!;
  prior /= Math.max(1, labels.length);
  const specs = features.map((name): FeatureSpec => {
    const column = getColumn(dataset, name);
    if (column.kind === 'numeric') return { name, kind: 'numeric' };
    const sums = new Map<string, { sum: number; count: number }>();
    for (let i = 0; i < column.values.length; i += 1) {
      const value = column.values[i];
      if (value === null || value === undefined) continue;
      const entry = sums.get(value) ?? { sum: 0, count: 0 };
      entry.sum += labels[i]!;
      entry.count += 1;
      sums.set(value, entry);
    }
    const categories = [...sums.keys()].sort();
    const codes = Float32Array.from(categories, (category) => {
      const { sum, count } = sums.get(category)!;
      return (sum + prior * smoothing) / (count + smoothing);
    });
    return { name, kind: 'categorical', categories, codes };
  });
  return { features: specs };
}

/** The model inputs as float32 columns (column-major), encoded as the ONNX model encodes them. */
export function encodeFeatures(dataset: Dataset, encoding: FeatureEncoding): Float32Array[] {
  return encoding.features.map((spec) => {
    const column = getColumn(dataset, spec.name);
    const out = new Float32Array(dataset.rowCount);
    if (spec.kind === 'numeric') {
      if (column.kind !== 'numeric') throw new DatasetError(`feature "${spec.name}" was numeric in training and is categorical now`);
      out.set(column.values);
      return out;
    }
    if (column.kind !== 'categorical') throw new DatasetError(`feature "${spec.name}" was categorical in training and is numeric now`);
    const lookup = new Map<string, number>();
    spec.categories.forEach((category, index) => lookup.set(category, spec.codes[index]!));
    for (let i = 0; i < out.length; i += 1) {
      const value = column.values[i];
      out[i] = value === null || value === undefined ? Number.NaN : (lookup.get(value) ?? Number.NaN);
    }
    return out;
  });
}
