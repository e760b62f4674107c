import manifest from '../package.json';
import { labelValues, selectRows, type Dataset } from './data/dataset';
import { encodeFeatures, fitFeatureEncoding } from './data/features';
import { splitRows, type SplitSpec } from './data/split';
import { binaryClassificationMetrics, curves, type PrPoint, type RocPoint } from './metrics/classification';
import { regressionMetrics } from './metrics/regression';
import { referenceProfile, type ReferenceProfile } from './profile/reference-profile';
import { taskOf, trainBuiltin, type BuiltinTrainerName } from './trainers/builtin';
import type { FeatureImportance, Task, TrainedModel } from './trainers/model';

/** The version of the built-in trainers: the version of this library. */
export const builtinTrainerVersion: string = manifest.version;

export interface TrainingRequest {
  readonly dataset: Dataset;
  readonly label: string;
  readonly features: readonly string[];
  readonly split: SplitSpec;
  readonly trainer: BuiltinTrainerName;
  readonly params: Readonly<Record<string, unknown>>;
  readonly seed: number;
  /** Threshold of the binary metrics (accuracy, precision, recall, F1). Default 0.5. */
  readonly threshold?: number;
  /** Extra `metadata_props` of the ONNX model (deterministic values only: no times). */
  readonly onnxMetadata?: readonly (readonly [string, string])[];
  /** Threads the trainer may use (GBDT: 1 or 2). The model is the same for any count. */
  readonly threads?: number;
}

export interface TrainingOutcome {
  readonly task: Task;
  readonly model: TrainedModel;
  /** The ONNX file. */
  readonly onnx: Uint8Array;
  /** Metrics on the holdout rows. */
  readonly metrics: Record<string, number>;
  readonly curves: { readonly roc: RocPoint[]; readonly pr: PrPoint[] } | null;
  readonly featureImportance: FeatureImportance[];
  /** Profile of the training rows' features (the drift reference). */
  readonly profile: ReferenceProfile;
  readonly trainRows: number;
  readonly holdoutRows: number;
}

/**
 * Split, encode, train, evaluate on the holdout, export: everything a built-in training run
 * computes, as a pure function of its inputs (same inputs → same ONNX bytes).
 */
export function trainAndEvaluate(request: TrainingRequest): TrainingOutcome {
  const task = taskOf(request.trainer);
  const labels = labelValues(request.dataset, request.label, task);
  const { train, holdout } = splitRows(request.dataset, request.split);
  const trainingRows = selectRows(request.dataset, train);
  const trainLabels = Float64Array.from(train, (row) => labels[row]!);
  const encoding = fitFeatureEncoding(trainingRows, request.features, trainLabels);
  const columns = encodeFeatures(request.dataset, encoding);
  const model = trainBuiltin({ trainer: request.trainer, params: request.params, features: encoding.features, columns, labels, rows: train, seed: request.seed, threads: request.threads });
  const holdoutColumns = columns.map((column) => Float32Array.from(holdout, (row) => column[row]!));
  const predictions = model.predict(holdoutColumns);
  const holdoutLabels = Float64Array.from(holdout, (row) => labels[row]!);
  const metrics: Record<string, number> =
    task === 'binary' ? { ...binaryClassificationMetrics(holdoutLabels, predictions, request.threshold ?? 0.5) } : { ...regressionMetrics(holdoutLabels, predictions) };
  const onnx = model.toOnnx({
    trainerName: `builtin/${request.trainer}`,
    trainerVersion: builtinTrainerVersion,
    metadata: [['loopline.label', request.label], ['loopline.seed', String(request.seed)], ...(request.onnxMetadata ?? [])],
  });
  return {
    task,
    model,
    onnx,
    metrics,
    curves: task === 'binary' ? curves(holdoutLabels, predictions) : null,
    featureImportance: model.featureImportance(),
    profile: referenceProfile(trainingRows, request.features),
    trainRows: train.length,
    holdoutRows: holdout.length,
  };
}
