// The promotion gate, after TFX's Evaluator (REFERENCE §5.3): value thresholds on the candidate's
// metrics, change thresholds against the baseline (the version holding the policy's baseline
// alias, usually the champion). With no baseline, change thresholds are skipped and value
// thresholds alone decide. A policy without thresholds cannot exist (see `validatePolicy`), so a
// forgotten configuration never blesses a model.
import { ValidationError } from '@loopline/errors';
import type { GateCheck, GateEvidence, MetricThreshold, PromotionPolicy } from './registered-model';
import { assertAlias, assertText, keyPattern, limits } from './rules';

/** What the gate compares: a version number and its metrics. */
export interface GateSubject {
  readonly version: number;
  readonly metrics: Readonly<Record<string, number>>;
}

/**
 * Float sums such as 0.74 + 0.01 land a hair off the exact value; a candidate that meets a bound
 * on paper must not fail by 1e-16. The tolerance is far below any meaningful metric difference.
 */
const tolerance = 1e-9;

export function evaluateGate(policy: PromotionPolicy, candidate: GateSubject, baseline: GateSubject | null): GateEvidence {
  const checks: GateCheck[] = [];
  for (const threshold of policy.thresholds) checks.push(...checksFor(threshold, candidate, baseline, policy.baselineAlias));
  return {
    policyName: policy.name,
    // With no baseline and only change thresholds there is nothing to check: TFX rubber-stamps the
    // first model, and so do we (the policy itself was set on purpose).
    passed: checks.every((check) => check.passed),
    candidateVersion: candidate.version,
    baselineAlias: policy.baselineAlias,
    baselineVersion: baseline?.version ?? null,
    checks,
  };
}

function checksFor(threshold: MetricThreshold, candidate: GateSubject, baseline: GateSubject | null, baselineAlias: string): GateCheck[] {
  const { metric, direction } = threshold;
  const candidateValue = valueOf(candidate.metrics, metric);
  const checks: GateCheck[] = [];
  if (threshold.lowerBound !== null) {
    checks.push(compare(metric, 'LOWER_BOUND', 'AT_LEAST', candidateValue, null, threshold.lowerBound, `${metric} >= ${threshold.lowerBound}`));
  }
  if (threshold.upperBound !== null) {
    checks.push(compare(metric, 'UPPER_BOUND', 'AT_MOST', candidateValue, null, threshold.upperBound, `${metric} <= ${threshold.upperBound}`));
  }
  if (baseline === null) return checks; // first promotion: change thresholds are skipped
  const baselineValue = valueOf(baseline.metrics, metric);
  const higherIsBetter = direction === 'HIGHER_IS_BETTER';
  const comparator = higherIsBetter ? 'AT_LEAST' : 'AT_MOST';
  const ref = `${baselineAlias}.${metric}`;
  if (threshold.minImprovement !== null) {
    const delta = threshold.minImprovement;
    const limit = baselineValue === null ? null : higherIsBetter ? baselineValue + delta : baselineValue - delta;
    const rule = higherIsBetter ? `${metric} >= ${ref} + ${delta}` : `${metric} <= ${ref} - ${delta}`;
    checks.push(compare(metric, 'MIN_IMPROVEMENT', comparator, candidateValue, baselineValue, limit, rule));
  }
  if (threshold.maxDegradation !== null) {
    const delta = threshold.maxDegradation;
    const limit = baselineValue === null ? null : higherIsBetter ? baselineValue - delta : baselineValue + delta;
    const rule = higherIsBetter ? `${metric} >= ${ref} - ${delta}` : `${metric} <= ${ref} + ${delta}`;
    checks.push(compare(metric, 'MAX_DEGRADATION', comparator, candidateValue, baselineValue, limit, rule));
  }
  return checks;
}

function compare(
  metric: string,
  kind: GateCheck['kind'],
  comparator: GateCheck['comparator'],
  candidateValue: number | null,
  baselineValue: number | null,
  threshold: number | null,
  rule: string,
): GateCheck {
  let passed = false;
  let description = rule;
  if (candidateValue === null) {
    description = `${rule}: the candidate has no metric "${metric}"`;
  } else if (threshold === null) {
    description = `${rule}: the baseline has no metric "${metric}" to compare with`;
  } else {
    const slack = tolerance * Math.max(1, Math.abs(threshold));
    passed = comparator === 'AT_LEAST' ? candidateValue >= threshold - slack : candidateValue <= threshold + slack;
  }
  return { metric, kind, comparator, candidateValue, baselineValue, threshold, passed, description };
}

function valueOf(metrics: Readonly<Record<string, number>>, metric: string): number | null {
  return Object.prototype.hasOwnProperty.call(metrics, metric) ? (metrics[metric] ?? null) : null;
}

/** Refuses a policy that could not judge anything, or whose numbers make no sense. */
export function validatePolicy(policy: PromotionPolicy): void {
  assertText('policy.name', policy.name, 200);
  if (policy.name.trim() === '') throw new ValidationError('policy.name is empty', { field: 'policy.name' });
  assertAlias(policy.baselineAlias);
  if (policy.thresholds.length === 0) {
    throw new ValidationError('a promotion policy needs at least one threshold: without one it could never refuse a model', { field: 'policy.thresholds' });
  }
  if (policy.thresholds.length > limits.policyThresholds) {
    throw new ValidationError(`a promotion policy has at most ${limits.policyThresholds} thresholds`, { field: 'policy.thresholds' });
  }
  const seen = new Set<string>();
  policy.thresholds.forEach((threshold, index) => {
    const field = `policy.thresholds[${index}]`;
    if (!keyPattern.test(threshold.metric)) throw new ValidationError(`${field}.metric is not a valid metric name`, { field });
    if (seen.has(threshold.metric)) throw new ValidationError(`${field}: metric "${threshold.metric}" appears twice; put all its bounds in one threshold`, { field });
    seen.add(threshold.metric);
    if (threshold.direction !== 'HIGHER_IS_BETTER' && threshold.direction !== 'LOWER_IS_BETTER') {
      throw new ValidationError(`${field}.direction must be HIGHER_IS_BETTER or LOWER_IS_BETTER`, { field });
    }
    const bounds = [threshold.lowerBound, threshold.upperBound, threshold.minImprovement, threshold.maxDegradation];
    if (bounds.every((bound) => bound === null)) {
      throw new ValidationError(`${field} sets no bound: give lowerBound, upperBound, minImprovement or maxDegradation`, { field });
    }
    for (const bound of bounds) {
      if (bound !== null && (typeof bound !== 'number' || !Number.isFinite(bound))) throw new ValidationError(`${field}: bounds must be finite numbers`, { field });
    }
    if (threshold.lowerBound !== null && threshold.upperBound !== null && threshold.lowerBound > threshold.upperBound) {
      throw new ValidationError(`${field}: lowerBound is above upperBound, so no model could pass`, { field });
    }
    for (const [name, value] of [['minImprovement', threshold.minImprovement], ['maxDegradation', threshold.maxDegradation]] as const) {
      if (value !== null && value < 0) throw new ValidationError(`${field}.${name} must be >= 0 (the direction gives the sign)`, { field });
    }
  });
}
