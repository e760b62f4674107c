import type { FeatureSpec } from '../data/features';

export type Task = 'binary' | 'regression';

/** What the ONNX model is told about itself besides its graph (all deterministic). */
export interface ExportInfo {
  /** E.g. `builtin/gbdt`. */
  readonly trainerName: string;
  /** Becomes `producer_version`. */
  readonly trainerVersion: string;
  /** Extra `metadata_props`, written in this order after the built-in ones. */
  readonly metadata?: readonly (readonly [string, string])[];
}

export interface FeatureImportance {
  readonly feature: string;
  /** Trees: total loss reduction of the feature's splits. Linear models: |coefficient| × the feature's standard deviation. */
  readonly gain: number;
  /** Trees: number of splits on the feature; linear models: 0. */
  readonly splits: number;
}

/**
 * A trained built-in model. `predict` computes what its ONNX export computes, in the same float32
 * arithmetic, from encoded feature columns (`encodeFeatures`): the probability of class 1 for a
 * binary task, the prediction for regression.
 */
export interface TrainedModel {
  readonly task: Task;
  readonly features: readonly FeatureSpec[];
  predict(columns: readonly Float32Array[]): Float64Array;
  featureImportance(): FeatureImportance[];
  toOnnx(info: ExportInfo): Uint8Array;
}

/** Bad hyper-parameters: the message names the parameter. */
export class ParamsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ParamsError';
  }
}

/** Reads a number parameter given as a number or a numeric string, within bounds. */
export function numberParam(params: Readonly<Record<string, unknown>>, name: string, fallback: number, bounds: { min?: number; max?: number; integer?: boolean } = {}): number {
  const raw = params[name];
  if (raw === undefined || raw === null || raw === '') return fallback;
  const value = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : Number.NaN;
  if (!Number.isFinite(value)) throw new ParamsError(`parameter "${name}" must be a number, got ${JSON.stringify(raw)}`);
  if (bounds.integer && !Number.isInteger(value)) throw new ParamsError(`parameter "${name}" must be an integer, got ${value}`);
  if (bounds.min !== undefined && value < bounds.min) throw new ParamsError(`parameter "${name}" must be ≥ ${bounds.min}, got ${value}`);
  if (bounds.max !== undefined && value > bounds.max) throw new ParamsError(`parameter "${name}" must be ≤ ${bounds.max}, got ${value}`);
  return value;
}

export function stringParam<T extends string>(params: Readonly<Record<string, unknown>>, name: string, allowed: readonly T[], fallback: T): T {
  const raw = params[name];
  if (raw === undefined || raw === null || raw === '') return fallback;
  if (typeof raw !== 'string' || !(allowed as readonly string[]).includes(raw)) throw new ParamsError(`parameter "${name}" must be one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
  return raw as T;
}

export function rejectUnknownParams(params: Readonly<Record<string, unknown>>, known: readonly string[]): void {
  const unknown = Object.keys(params).filter((key) => !known.includes(key));
  if (unknown.length > 0) throw new ParamsError(`unknown parameter(s) ${unknown.map((key) => `"${key}"`).join(', ')}; known: ${known.join(', ')}`);
}

/** ONNX Runtime's float logistic (`ComputeLogistic` of its ml operators), reproduced in float32. */
export function logistic32(score: number): number {
  const v = Math.fround(1 / Math.fround(1 + Math.fround(Math.exp(-Math.abs(score)))));
  return score < 0 ? Math.fround(1 - v) : v;
}
