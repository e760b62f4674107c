/**
 * @loopline/ml: what the ML services share, as pure functions (no I/O): datasets as typed
 * columns, splits, metrics, reference data profiles, a seeded PRNG, and the built-in trainers
 * (logistic/linear regression, histogram gradient-boosted trees) that export ONNX with the
 * `ai.onnx.ml` operators. Design: docs/adr/0007-training.md.
 */
export { Prng } from './random/prng';
export {
  categoricalColumn,
  createDataset,
  DatasetError,
  getColumn,
  labelValues,
  numericColumn,
  selectRows,
  type CategoricalColumn,
  type Column,
  type Dataset,
  type NumericColumn,
} from './data/dataset';
export { encodeFeatures, fitFeatureEncoding, type FeatureEncoding, type FeatureSpec } from './data/features';
export { splitRows, type Split, type SplitSpec } from './data/split';
export { binaryClassificationMetrics, curves, logLoss, rocAuc, type BinaryClassificationMetrics, type PrPoint, type RocPoint } from './metrics/classification';
export { regressionMetrics, type RegressionMetrics } from './metrics/regression';
export {
  categoricalProfile,
  numericProfile,
  otherCategory,
  profileQuantiles,
  quantileOfSorted,
  referenceProfile,
  type CategoricalProfile,
  type NumericProfile,
  type ProfileOptions,
  type ReferenceProfile,
} from './profile/reference-profile';
export { ParamsError, logistic32, type ExportInfo, type FeatureImportance, type Task, type TrainedModel } from './trainers/model';
export { GbdtModel, gbdtParamNames, parseGbdtParams, trainGbdt, type FlatTree, type GbdtParams } from './trainers/gbdt/gbdt';
export { LinearModel, linearParamNames, parseLinearParams, trainLinear, type LinearParams } from './trainers/linear/linear';
export { builtinTrainerNames, isBuiltinTrainer, resolveBuiltinParams, taskOf, trainBuiltin, type BuiltinTrainerName } from './trainers/builtin';
export { builtinTrainerVersion, trainAndEvaluate, type TrainingOutcome, type TrainingRequest } from './train';
