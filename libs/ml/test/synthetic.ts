// Synthetic datasets with a known structure, made with the library's seeded PRNG: tests say what
// their data is instead of shipping fixtures.
import { categoricalColumn, createDataset, numericColumn, Prng, type Dataset } from '../src';

export interface SyntheticOptions {
  readonly rows: number;
  readonly seed: number;
  /** Share of `x2` values left missing. */
  readonly missingRate?: number;
}

/**
 * Binary classification: `label` is 1 with probability sigmoid(2·x1 − 1.5·x2 + x1·x3 + effect(city)),
 * with x1, x2, x3 standard normal, `city` one of five with its own effect, `time` increasing.
 */
export function syntheticBinary(options: SyntheticOptions): Dataset {
  const prng = new Prng(options.seed);
  const cities = ['ams', 'ber', 'cdg', 'dub', 'eze'];
  const effects = [-1.5, -0.5, 0, 0.7, 1.6];
  const x1: number[] = [];
  const x2: (number | null)[] = [];
  const x3: number[] = [];
  const city: string[] = [];
  const label: number[] = [];
  const time: number[] = [];
  for (let i = 0; i < options.rows; i += 1) {
    const a = prng.nextGaussian();
    const b = prng.nextGaussian();
    const c = prng.nextGaussian();
    const k = prng.nextInt(cities.length);
    const z = 2 * a - 1.5 * b + a * c + effects[k]!;
    x1.push(a);
    x2.push(prng.nextFloat() < (options.missingRate ?? 0) ? null : b);
    x3.push(c);
    city.push(cities[k]!);
    label.push(prng.nextFloat() < 1 / (1 + Math.exp(-z)) ? 1 : 0);
    time.push(1_700_000_000_000 + i * 60_000);
  }
  return createDataset([
    ['x1', numericColumn(x1)],
    ['x2', numericColumn(x2)],
    ['x3', numericColumn(x3)],
    ['city', categoricalColumn(city)],
    ['time', numericColumn(time)],
    ['label', numericColumn(label)],
  ]);
}

/** Regression: `target` = 3·x1 − 2·x2² + effect(city) + noise(0.3). */
export function syntheticRegression(options: SyntheticOptions): Dataset {
  const prng = new Prng(options.seed);
  const cities = ['ams', 'ber', 'cdg'];
  const effects = [-2, 0, 2];
  const x1: number[] = [];
  const x2: (number | null)[] = [];
  const city: string[] = [];
  const target: number[] = [];
  for (let i = 0; i < options.rows; i += 1) {
    const a = prng.nextGaussian();
    const b = prng.nextGaussian();
    const k = prng.nextInt(cities.length);
    x1.push(a);
    x2.push(prng.nextFloat() < (options.missingRate ?? 0) ? null : b);
    city.push(cities[k]!);
    target.push(3 * a - 2 * b * b + effects[k]! + 0.3 * prng.nextGaussian());
  }
  return createDataset([
    ['x1', numericColumn(x1)],
    ['x2', numericColumn(x2)],
    ['city', categoricalColumn(city)],
    ['target', numericColumn(target)],
  ]);
}
