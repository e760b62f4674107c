// Hyper-parameter search spaces and the trials a strategy draws from them: a grid (every
// combination of listed values, in a fixed order) or a seeded random search (values drawn
// uniformly, ranges uniformly or log-uniformly). Pure: the same space, strategy and seed always
// give the same trials.
import { ValidationError } from '@loopline/errors';
import { Prng } from '@loopline/ml';

export type Dimension =
  | { readonly values: readonly (number | string | boolean)[] }
  | { readonly min: number; readonly max: number; readonly scale?: 'linear' | 'log'; readonly integer?: boolean };

export type SearchSpace = Readonly<Record<string, Dimension>>;

export interface SearchStrategy {
  readonly strategy: 'grid' | 'random';
  /** Random search: number of trials. Grid: at most this many (the grid is refused if larger). */
  readonly maxTrials: number;
  readonly seed: number;
}

export type TrialParams = Readonly<Record<string, number | string | boolean>>;

export function trialsOf(space: SearchSpace, strategy: SearchStrategy): TrialParams[] {
  const names = Object.keys(space).sort();
  if (names.length === 0) throw new ValidationError('the search space declares no parameter', { field: 'space' });
  for (const name of names) checkDimension(name, space[name]!);
  if (strategy.strategy === 'grid') {
    let trials: Record<string, number | string | boolean>[] = [{}];
    for (const name of names) {
      const dimension = space[name]!;
      if (!('values' in dimension)) throw new ValidationError(`grid search needs listed values: "${name}" is a range`, { field: `space.${name}` });
      trials = trials.flatMap((trial) => dimension.values.map((value) => ({ ...trial, [name]: value })));
      if (trials.length > strategy.maxTrials) throw new ValidationError(`the grid has more than ${strategy.maxTrials} trials (maxTrials)`, { field: 'maxTrials' });
    }
    return trials;
  }
  const prng = new Prng(strategy.seed);
  const trials: TrialParams[] = [];
  for (let t = 0; t < strategy.maxTrials; t += 1) {
    const trial: Record<string, number | string | boolean> = {};
    for (const name of names) trial[name] = draw(space[name]!, prng);
    trials.push(trial);
  }
  return trials;
}

function draw(dimension: Dimension, prng: Prng): number | string | boolean {
  if ('values' in dimension) return dimension.values[prng.nextInt(dimension.values.length)]!;
  const u = prng.nextFloat();
  const value = dimension.scale === 'log' ? Math.exp(Math.log(dimension.min) + u * (Math.log(dimension.max) - Math.log(dimension.min))) : dimension.min + u * (dimension.max - dimension.min);
  return dimension.integer ? Math.max(dimension.min, Math.min(dimension.max, Math.round(value))) : value;
}

function checkDimension(name: string, dimension: Dimension): void {
  if ('values' in dimension) {
    if (!Array.isArray(dimension.values) || dimension.values.length === 0) throw new ValidationError(`"${name}" lists no values`, { field: `space.${name}` });
    return;
  }
  const { min, max } = dimension;
  if (!(Number.isFinite(min) && Number.isFinite(max) && min <= max)) throw new ValidationError(`"${name}" needs finite min ≤ max`, { field: `space.${name}` });
  if (dimension.scale === 'log' && !(min > 0)) throw new ValidationError(`"${name}" on a log scale needs min > 0`, { field: `space.${name}` });
}

/** The index of the best trial by `metric` (`maximize` or `minimize`); trials without it never win. Ties: the earliest. */
export function bestTrial(results: readonly (Readonly<Record<string, number>> | null)[], metric: string, direction: 'maximize' | 'minimize'): number {
  let best = -1;
  for (let i = 0; i < results.length; i += 1) {
    const value = results[i]?.[metric];
    if (value === undefined || Number.isNaN(value)) continue;
    const current = best < 0 ? undefined : results[best]![metric]!;
    if (current === undefined || (direction === 'maximize' ? value > current : value < current)) best = i;
  }
  return best;
}
