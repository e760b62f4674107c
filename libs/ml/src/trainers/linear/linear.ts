// Logistic and linear regression with L2 regularisation, on standardised features (missing values
// imputed with the training mean), solved exactly: Newton's method (IRLS) for the logistic loss,
// the normal equations for squared loss, both through a Cholesky solve. Deterministic, no seed
// needed. Exported as `Imputer` → `LinearClassifier` / `LinearRegressor` (ai.onnx.ml), with the
// standardisation folded into the coefficients.
import type { onnx } from 'onnx-proto';
import type { FeatureSpec } from '../../data/features';
import { attribute, encodeModel, floatAttribute, floats, FLOAT, INT64, ints, node, tensorValue } from '../../onnx/onnx-builder';
import { featureInputs, featureMatrixName } from '../../onnx/feature-inputs';
import { logistic32, numberParam, ParamsError, rejectUnknownParams, type ExportInfo, type FeatureImportance, type Task, type TrainedModel } from '../model';

export interface LinearParams {
  /** L2 penalty λ on the standardised coefficients: loss = mean(loss) + λ/2 · ‖w‖². */
  readonly l2: number;
  readonly maxIterations: number;
  /** Newton stops when the largest coefficient change is below this. */
  readonly tolerance: number;
}

export const linearParamNames = ['l2', 'maxIterations', 'tolerance'] as const;

export function parseLinearParams(params: Readonly<Record<string, unknown>>): LinearParams {
  rejectUnknownParams(params, linearParamNames);
  return {
    l2: numberParam(params, 'l2', 1e-4, { min: 0 }),
    maxIterations: numberParam(params, 'maxIterations', 50, { min: 1, max: 1000, integer: true }),
    tolerance: numberParam(params, 'tolerance', 1e-9, { min: 0 }),
  };
}

export interface LinearTrainingInput {
  readonly task: Task;
  readonly features: readonly FeatureSpec[];
  readonly columns: readonly Float32Array[];
  readonly labels: ArrayLike<number>;
  readonly rows: ArrayLike<number>;
  readonly params: LinearParams;
}

export function trainLinear(input: LinearTrainingInput): LinearModel {
  const { rows, columns, task, params } = input;
  const n = rows.length;
  const p = columns.length;
  if (n === 0) throw new ParamsError('no training rows');
  // Means (imputation values, float32 as the ONNX Imputer holds them) and standard deviations.
  const means = new Float32Array(p);
  const stds = new Float64Array(p);
  for (let f = 0; f < p; f += 1) {
    const column = columns[f]!;
    let sum = 0;
    let count = 0;
    for (let k = 0; k < n; k += 1) {
      const x = column[rows[k]!]!;
      if (!Number.isNaN(x)) {
        sum += x;
        count += 1;
      }
    }
    means[f] = count === 0 ? 0 : sum / count;
    let squares = 0;
    for (let k = 0; k < n; k += 1) {
      const x = column[rows[k]!]!;
      squares += ((Number.isNaN(x) ? means[f]! : x) - means[f]!) ** 2;
    }
    const std = Math.sqrt(squares / n);
    stds[f] = std > 1e-12 ? std : 1;
  }
  // Standardised design matrix with a leading intercept column, row-major.
  const d = p + 1;
  const x = new Float64Array(n * d);
  const y = new Float64Array(n);
  for (let k = 0; k < n; k += 1) {
    const r = rows[k]!;
    x[k * d] = 1;
    for (let f = 0; f < p; f += 1) {
      const value = columns[f]![r]!;
      x[k * d + f + 1] = ((Number.isNaN(value) ? means[f]! : value) - means[f]!) / stds[f]!;
    }
    y[k] = input.labels[r]!;
  }
  const beta = new Float64Array(d);
  const lambda = params.l2 * n; // on the summed loss
  if (task === 'regression') {
    const { hessian, gradient } = normalEquations(x, y, n, d, lambda);
    beta.set(choleskySolve(hessian, gradient, d));
  } else {
    for (let iteration = 0; iteration < params.maxIterations; iteration += 1) {
      const hessian = new Float64Array(d * d);
      const gradient = new Float64Array(d);
      for (let k = 0; k < n; k += 1) {
        let z = 0;
        for (let j = 0; j < d; j += 1) z += x[k * d + j]! * beta[j]!;
        const prob = 1 / (1 + Math.exp(-z));
        const w = Math.max(prob * (1 - prob), 1e-12);
        const residual = y[k]! - prob;
        for (let i = 0; i < d; i += 1) {
          const xi = x[k * d + i]!;
          gradient[i] += xi * residual;
          const wxi = w * xi;
          for (let j = 0; j <= i; j += 1) hessian[i * d + j] += wxi * x[k * d + j]!;
        }
      }
      for (let i = 0; i < d; i += 1) for (let j = 0; j < i; j += 1) hessian[j * d + i] = hessian[i * d + j]!;
      for (let i = 1; i < d; i += 1) {
        hessian[i * d + i] += lambda;
        gradient[i] -= lambda * beta[i]!;
      }
      const step = choleskySolve(hessian, gradient, d);
      let largest = 0;
      for (let i = 0; i < d; i += 1) {
        beta[i] += step[i]!;
        largest = Math.max(largest, Math.abs(step[i]!));
      }
      if (largest < params.tolerance) break;
    }
  }
  // Back to the raw (imputed) feature scale.
  const weights = new Float32Array(p);
  let intercept = beta[0]!;
  for (let f = 0; f < p; f += 1) {
    weights[f] = beta[f + 1]! / stds[f]!;
    intercept -= (beta[f + 1]! * means[f]!) / stds[f]!;
  }
  const importance = input.features.map((spec, f) => ({ feature: spec.name, gain: Math.abs(beta[f + 1]!), splits: 0 }));
  return new LinearModel(task, input.features, weights, Math.fround(intercept), means, importance);
}

function normalEquations(x: Float64Array, y: Float64Array, n: number, d: number, lambda: number) {
  const hessian = new Float64Array(d * d);
  const gradient = new Float64Array(d);
  for (let k = 0; k < n; k += 1) {
    for (let i = 0; i < d; i += 1) {
      const xi = x[k * d + i]!;
      gradient[i] += xi * y[k]!;
      for (let j = 0; j <= i; j += 1) hessian[i * d + j] += xi * x[k * d + j]!;
    }
  }
  for (let i = 0; i < d; i += 1) for (let j = 0; j < i; j += 1) hessian[j * d + i] = hessian[i * d + j]!;
  for (let i = 1; i < d; i += 1) hessian[i * d + i] += lambda;
  return { hessian, gradient };
}

/** Solves A·x = b for a symmetric positive-definite A (a tiny ridge keeps singular systems solvable). */
function choleskySolve(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i += 1) {
    for (let j = 0; j <= i; j += 1) {
      let sum = a[i * d + j]!;
      for (let k = 0; k < j; k += 1) sum -= l[i * d + k]! * l[j * d + k]!;
      if (i === j) l[i * d + i] = Math.sqrt(Math.max(sum, 1e-12));
      else l[i * d + j] = sum / l[j * d + j]!;
    }
  }
  const z = new Float64Array(d);
  for (let i = 0; i < d; i += 1) {
    let sum = b[i]!;
    for (let k = 0; k < i; k += 1) sum -= l[i * d + k]! * z[k]!;
    z[i] = sum / l[i * d + i]!;
  }
  const out = new Float64Array(d);
  for (let i = d - 1; i >= 0; i -= 1) {
    let sum = z[i]!;
    for (let k = i + 1; k < d; k += 1) sum -= l[k * d + i]! * out[k]!;
    out[i] = sum / l[i * d + i]!;
  }
  return out;
}

export class LinearModel implements TrainedModel {
  constructor(
    readonly task: Task,
    readonly features: readonly FeatureSpec[],
    /** Coefficients on the raw (imputed) features, float32 as exported. */
    readonly weights: Float32Array,
    readonly intercept: number,
    /** Imputation values of missing inputs (training means). */
    readonly means: Float32Array,
    private readonly importance: readonly FeatureImportance[],
  ) {}

  /** The linear score in float32, accumulated in feature order as ONNX Runtime's kernel does. */
  private score(columns: readonly Float32Array[], r: number): number {
    let z = 0;
    for (let f = 0; f < this.weights.length; f += 1) {
      const value = columns[f]![r]!;
      z = Math.fround(z + Math.fround(this.weights[f]! * (Number.isNaN(value) ? this.means[f]! : value)));
    }
    return Math.fround(z + this.intercept);
  }

  predict(columns: readonly Float32Array[]): Float64Array {
    const rows = columns[0]?.length ?? 0;
    const out = new Float64Array(rows);
    for (let r = 0; r < rows; r += 1) {
      const z = this.score(columns, r);
      out[r] = this.task === 'binary' ? logistic32(z) : z;
    }
    return out;
  }

  featureImportance(): FeatureImportance[] {
    return this.importance.map((entry) => ({ ...entry }));
  }

  /**
   * Binary: `LinearClassifier` with the two classes' scores (−z, z) and LOGISTIC, so the
   * `probabilities` output is [1 − p, p] and `label` is 1 when z > 0. Regression:
   * `LinearRegressor`, output `prediction` [batch, 1].
   */
  toOnnx(info: ExportInfo): Uint8Array {
    const front = featureInputs(this.features);
    const imputer = node('Imputer', [featureMatrixName], ['loopline_imputed'], [attribute('imputed_value_floats', floats(this.means)), floatAttribute('replaced_value_float', Number.NaN)], 'ai.onnx.ml');
    let estimator: onnx.INodeProto;
    let outputs: onnx.IValueInfoProto[];
    if (this.task === 'binary') {
      estimator = node(
        'LinearClassifier',
        ['loopline_imputed'],
        ['label', 'probabilities'],
        [
          attribute('coefficients', floats([...Array.from(this.weights, (w) => -w), ...this.weights])),
          attribute('intercepts', floats([-this.intercept, this.intercept])),
          attribute('classlabels_ints', ints([0, 1])),
          attribute('multi_class', 0),
          attribute('post_transform', 'LOGISTIC'),
        ],
        'ai.onnx.ml',
      );
      outputs = [tensorValue('label', INT64, ['batch']), tensorValue('probabilities', FLOAT, ['batch', 2])];
    } else {
      estimator = node(
        'LinearRegressor',
        ['loopline_imputed'],
        ['prediction'],
        [attribute('coefficients', floats(this.weights)), attribute('intercepts', floats([this.intercept])), attribute('targets', 1), attribute('post_transform', 'NONE')],
        'ai.onnx.ml',
      );
      outputs = [tensorValue('prediction', FLOAT, ['batch', 1])];
    }
    return encodeModel(
      { node: [...front.nodes, imputer, estimator], input: front.inputs, output: outputs },
      {
        graphName: this.task === 'binary' ? 'loopline_logistic_regression' : 'loopline_linear_regression',
        producerVersion: info.trainerVersion,
        docString: `${this.task === 'binary' ? 'Logistic' : 'Linear'} regression trained by ${info.trainerName}.`,
        metadata: [['loopline.trainer', info.trainerName], ['loopline.task', this.task], ['loopline.features', JSON.stringify(this.features.map((feature) => feature.name))], ...(info.metadata ?? [])],
      },
    );
  }
}
