// What a training or tuning job is asked to do, and how a request is resolved against the
// trainers and the training set: trainer name, params with defaults, features, label, split.
import { ValidationError } from '@loopline/errors';
import { isBuiltinTrainer, ParamsError, resolveBuiltinParams, type BuiltinTrainerName, type SplitSpec, type Task } from '@loopline/ml';
import type { Dimension } from '../domain/search/search-space';
import type { ExternalTrainers, TrainingSetInfo } from './ports';

export type SplitRequest =
  | { readonly kind: 'random'; readonly holdoutFraction?: number }
  | { readonly kind: 'time'; readonly timeColumn?: string; readonly holdoutFraction?: number; readonly cutoff?: string | number };

export interface TrainingJobRequest {
  readonly experimentName: string;
  /** Registered model to add the version to; empty to register nothing. */
  readonly modelName: string;
  readonly trainingSetId: string;
  /** `builtin/<name>`, a bare built-in name, `gbdt` (= gbdt-classifier), or `external/<name>`. */
  readonly trainer: string;
  readonly params: Readonly<Record<string, string | number | boolean>>;
  readonly seed: number;
  readonly split: SplitRequest | null;
  readonly labelColumn: string;
  /** Null: the training set's feature columns. */
  readonly featureColumns: readonly string[] | null;
  /** Threshold of the binary metrics. */
  readonly threshold: number;
  /** For external trainers, which metrics to expect; built-ins know. */
  readonly task: Task | null;
  readonly runName: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly description: string;
}

export interface SearchRequest {
  readonly space: Readonly<Record<string, Dimension>>;
  readonly strategy: 'grid' | 'random';
  readonly maxTrials: number;
  readonly metric: string;
  readonly direction: 'maximize' | 'minimize';
  /** Trials at once; null: the service's worker count. */
  readonly workers: number | null;
}

export interface TuningJobRequest extends TrainingJobRequest {
  readonly search: SearchRequest;
}

export type ResolvedTrainer =
  | { readonly kind: 'builtin'; readonly builtin: BuiltinTrainerName; readonly ref: { readonly name: string; readonly version: string }; readonly task: Task; readonly lockSha256: string }
  | { readonly kind: 'external'; readonly external: string; readonly ref: { readonly name: string; readonly version: string }; readonly task: Task; readonly lockSha256: string };

const aliases: Readonly<Record<string, BuiltinTrainerName>> = { gbdt: 'gbdt-classifier', 'logistic': 'logistic-regression', linear: 'linear-regression' };

export function resolveTrainer(
  name: string,
  externals: ExternalTrainers,
  builtin: { readonly version: string; readonly lockSha256: string },
  task: Task | null,
): ResolvedTrainer {
  const bare = name.startsWith('builtin/') ? name.slice('builtin/'.length) : name;
  const builtinName = aliases[bare] ?? bare;
  if (!name.startsWith('external/') && isBuiltinTrainer(builtinName)) {
    const builtinTask: Task = builtinName === 'gbdt-classifier' || builtinName === 'logistic-regression' ? 'binary' : 'regression';
    return { kind: 'builtin', builtin: builtinName, ref: { name: `builtin/${builtinName}`, version: builtin.version }, task: builtinTask, lockSha256: builtin.lockSha256 };
  }
  const externalName = name.startsWith('external/') ? name.slice('external/'.length) : name;
  const external = externals.get(externalName);
  if (external) return { kind: 'external', external: externalName, ref: { name: `external/${externalName}`, version: external.version }, task: task ?? 'binary', lockSha256: external.lockfileSha256 };
  const known = ['builtin/gbdt-classifier', 'builtin/gbdt-regressor', 'builtin/logistic-regression', 'builtin/linear-regression', ...externals.list().map((trainer) => `external/${trainer.name}`)];
  throw new ValidationError(`unknown trainer "${name}"; known: ${known.join(', ')}`, { field: 'trainer' });
}

/** The params as the run records them: for built-ins every hyper-parameter, defaults filled in. */
export function recordedParams(trainer: ResolvedTrainer, params: Readonly<Record<string, unknown>>, seed: number): Record<string, string> {
  let resolved: Record<string, unknown> = { ...params };
  if (trainer.kind === 'builtin') {
    try {
      resolved = resolveBuiltinParams(trainer.builtin, params);
    } catch (error) {
      if (error instanceof ParamsError) throw new ValidationError(error.message, { field: 'params' });
      throw error;
    }
  }
  const out: Record<string, string> = {};
  for (const key of Object.keys(resolved).sort()) out[key] = String(resolved[key]);
  out.seed = String(seed);
  return out;
}

export function resolveFeatures(request: TrainingJobRequest, info: TrainingSetInfo): string[] {
  const features = request.featureColumns ?? info.featureColumns;
  if (features.length === 0) throw new ValidationError('featureColumns is required: the training set names no feature columns', { field: 'featureColumns' });
  if (features.includes(request.labelColumn)) throw new ValidationError(`the label column "${request.labelColumn}" cannot also be a feature`, { field: 'featureColumns' });
  return [...features];
}

/** The split: as asked, else by the training set's event time when it has one, else random (seeded). */
export function resolveSplit(request: TrainingJobRequest, info: TrainingSetInfo): SplitSpec {
  const split = request.split;
  const holdoutFraction = split?.holdoutFraction ?? 0.2;
  if (split?.kind === 'random' || (split === null && info.eventTimeColumn === null)) return { kind: 'random', holdoutFraction, seed: request.seed };
  const timeColumn = (split?.kind === 'time' ? split.timeColumn : undefined) ?? info.eventTimeColumn;
  if (!timeColumn) throw new ValidationError('a time split needs split.timeColumn (the training set has no event-time column)', { field: 'split.timeColumn' });
  const cutoffRaw = split?.kind === 'time' ? split.cutoff : undefined;
  const cutoff = cutoffRaw === undefined ? undefined : typeof cutoffRaw === 'number' ? cutoffRaw : Date.parse(cutoffRaw);
  if (cutoff !== undefined && !Number.isFinite(cutoff)) throw new ValidationError('split.cutoff must be a time (RFC 3339) or epoch milliseconds', { field: 'split.cutoff' });
  return cutoff === undefined ? { kind: 'time', timeColumn, holdoutFraction } : { kind: 'time', timeColumn, cutoff };
}

/** The columns a job reads from the training set. */
export function columnsToRead(label: string, features: readonly string[], split: SplitSpec): string[] {
  const columns = [label, ...features];
  if (split.kind === 'time' && !columns.includes(split.timeColumn)) columns.push(split.timeColumn);
  return columns;
}

/** Metrics where lower is better; everything else is maximised unless the request says. */
export function defaultDirection(metric: string): 'maximize' | 'minimize' {
  return ['log_loss', 'rmse', 'mae', 'mse', 'loss'].includes(metric) ? 'minimize' : 'maximize';
}
