import type { FeatureSpec } from '../data/features';
import { parseGbdtParams, trainGbdt } from './gbdt/gbdt';
import { parseLinearParams, trainLinear } from './linear/linear';
import { ParamsError, type Task, type TrainedModel } from './model';

/** The trainers built into Loopline, by name (`TrainerRef.name` is `builtin/<name>`). */
export const builtinTrainerNames = ['gbdt-classifier', 'gbdt-regressor', 'logistic-regression', 'linear-regression'] as const;
export type BuiltinTrainerName = (typeof builtinTrainerNames)[number];

export function isBuiltinTrainer(name: string): name is BuiltinTrainerName {
  return (builtinTrainerNames as readonly string[]).includes(name);
}

export function taskOf(trainer: BuiltinTrainerName): Task {
  return trainer === 'gbdt-classifier' || trainer === 'logistic-regression' ? 'binary' : 'regression';
}

/** Checks params without training: a `ParamsError` names the bad one. Returns them with defaults filled in. */
export function resolveBuiltinParams(trainer: BuiltinTrainerName, params: Readonly<Record<string, unknown>>): Record<string, string | number> {
  const parsed = trainer.startsWith('gbdt') ? parseGbdtParams(params) : parseLinearParams(params);
  return { ...parsed };
}

export interface BuiltinTrainingInput {
  readonly trainer: BuiltinTrainerName;
  readonly params: Readonly<Record<string, unknown>>;
  readonly features: readonly FeatureSpec[];
  readonly columns: readonly Float32Array[];
  readonly labels: ArrayLike<number>;
  readonly rows: ArrayLike<number>;
  readonly seed: number;
  /** Threads the trainer may use (GBDT: 1 or 2). The model is the same for any count. */
  readonly threads?: number;
}

export function trainBuiltin(input: BuiltinTrainingInput): TrainedModel {
  const task = taskOf(input.trainer);
  switch (input.trainer) {
    case 'gbdt-classifier':
    case 'gbdt-regressor':
      return trainGbdt({ task, features: input.features, columns: input.columns, labels: input.labels, rows: input.rows, params: parseGbdtParams(input.params), seed: input.seed, threads: input.threads });
    case 'logistic-regression':
    case 'linear-regression':
      return trainLinear({ task, features: input.features, columns: input.columns, labels: input.labels, rows: input.rows, params: parseLinearParams(input.params) });
    default: {
      const unreachable: never = input.trainer;
      throw new ParamsError(`unknown trainer ${String(unreachable)}`);
    }
  }
}
