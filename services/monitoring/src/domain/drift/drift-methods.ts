// Which drift test a feature gets, its default threshold and when it counts as drifted — Evidently
// 0.7.23's rules (`legacy/calculations/stattests/registry.py::_get_default_stattest` and each
// stattest's `default_threshold`), so that a Loopline monitor and an Evidently report on the same
// data agree column by column.
import { ValidationError } from '@loopline/errors';

export type DriftFeatureKind = 'numerical' | 'categorical';
export type DriftMethod = 'ks' | 'chisquare' | 'z' | 'wasserstein' | 'jensenshannon' | 'psi';
export type DriftMethodRequest = 'auto' | DriftMethod;

export const driftMethods: readonly DriftMethod[] = ['ks', 'chisquare', 'z', 'wasserstein', 'jensenshannon', 'psi'];

/** Evidently's reference-size switch: at most this many reference rows → statistical tests. */
export const smallReferenceRows = 1000;

/** What the choice depends on, all counted after missing values are dropped. */
export interface FeatureShape {
  readonly kind: DriftFeatureKind;
  readonly referenceSize: number;
  /** Distinct values over reference ∪ current (only compared against 2 and 5). */
  readonly distinctValues: number;
}

/** Evidently's default method: KS / χ² / Z for a small reference, Wasserstein / Jensen–Shannon above. */
export function defaultDriftMethod(shape: FeatureShape): DriftMethod {
  if (shape.referenceSize <= smallReferenceRows) {
    if (shape.kind === 'numerical' && shape.distinctValues > 5) return 'ks';
    return shape.distinctValues > 2 ? 'chisquare' : 'z';
  }
  if (shape.kind === 'numerical' && shape.distinctValues > 5) return 'wasserstein';
  return 'jensenshannon';
}

/** Whether a method's value is a p-value (drift when small) rather than a distance (drift when large). */
export function isPValueMethod(method: DriftMethod): boolean {
  switch (method) {
    case 'ks':
    case 'chisquare':
    case 'z':
      return true;
    case 'wasserstein':
    case 'jensenshannon':
    case 'psi':
      return false;
    default: {
      const unexpected: never = method;
      throw new ValidationError(`unknown drift method ${String(unexpected)}`);
    }
  }
}

/** Evidently's default thresholds: 0.05 for the p-values, 0.1 for the distances. */
export function defaultThreshold(method: DriftMethod): number {
  return isPValueMethod(method) ? 0.05 : 0.1;
}

/**
 * Evidently's comparisons, kept exactly: KS drifts at p ≤ threshold, χ² and Z at p < threshold,
 * the distances at value ≥ threshold.
 */
export function isDrifted(method: DriftMethod, value: number, threshold: number): boolean {
  switch (method) {
    case 'ks':
      return value <= threshold;
    case 'chisquare':
    case 'z':
      return value < threshold;
    case 'wasserstein':
    case 'jensenshannon':
    case 'psi':
      return value >= threshold;
    default: {
      const unexpected: never = method;
      throw new ValidationError(`unknown drift method ${String(unexpected)}`);
    }
  }
}

/**
 * The kinds of feature a method may be asked for, as Evidently registers them
 * (`allowed_feature_types`): KS and Wasserstein for numerical features, χ² and Z for categorical
 * ones, PSI and Jensen–Shannon for both. (The automatic choice still gives χ² or Z to a numerical
 * feature with at most 5 distinct values, as Evidently's does.)
 */
export function methodApplies(method: DriftMethod, kind: DriftFeatureKind): boolean {
  switch (method) {
    case 'ks':
    case 'wasserstein':
      return kind === 'numerical';
    case 'chisquare':
    case 'z':
      return kind === 'categorical';
    case 'psi':
    case 'jensenshannon':
      return true;
    default: {
      const unexpected: never = method;
      throw new ValidationError(`unknown drift method ${String(unexpected)}`);
    }
  }
}

/** The method a feature gets: the requested one when it suits the feature's kind, else a clear error. */
export function resolveDriftMethod(requested: DriftMethodRequest, feature: string, shape: FeatureShape): DriftMethod {
  if (requested === 'auto') return defaultDriftMethod(shape);
  if (!methodApplies(requested, shape.kind)) {
    const needed = shape.kind === 'numerical' ? 'categorical' : 'numerical';
    throw new ValidationError(`drift method "${requested}" needs a ${needed} feature, but "${feature}" is ${shape.kind}`, { feature, method: requested, kind: shape.kind });
  }
  return requested;
}

/** Dataset drift as Evidently decides it: the drifted share reaches `driftShare` (default 0.5). */
export function datasetDrift(drifted: readonly boolean[], driftShare: number): { driftedShare: number; drifted: boolean } {
  const driftedShare = drifted.length === 0 ? 0 : drifted.filter(Boolean).length / drifted.length;
  return { driftedShare, drifted: drifted.length > 0 && driftedShare >= driftShare };
}
