import { ValidationError } from '@loopline/errors';

/**
 * How a model's traffic is shared between its champion and its challenger. Applies to requests
 * that address the model by name only; a request that names a version gets that version.
 */
export interface TrafficPolicy {
  /** Share of requests, 0–100, that the challenger answers (role `canary`). */
  readonly canaryPercent: number;
  /** The challenger also computes every request the champion answers, logged and never returned. */
  readonly shadow: boolean;
}

export const defaultTrafficPolicy: TrafficPolicy = { canaryPercent: 0, shadow: false };

/** Who answers one request, and whether the challenger shadows it. */
export interface Route {
  readonly answeredBy: 'champion' | 'challenger';
  readonly shadowedByChallenger: boolean;
}

/**
 * Routes one request. `draw` is uniform in [0, 1) and arrives from outside, so the split is a
 * pure function (and tests can replay it). Without a challenger everything goes to the champion.
 */
export function routeRequest(policy: TrafficPolicy, hasChallenger: boolean, draw: number): Route {
  if (!hasChallenger) return { answeredBy: 'champion', shadowedByChallenger: false };
  if (draw * 100 < policy.canaryPercent) return { answeredBy: 'challenger', shadowedByChallenger: false };
  return { answeredBy: 'champion', shadowedByChallenger: policy.shadow };
}

/** Whether a policy needs the challenger loaded. */
export function needsChallenger(policy: TrafficPolicy): boolean {
  return policy.canaryPercent > 0 || policy.shadow;
}

/** Parses a policy from a request body; unknown keys and out-of-range values are refused. */
export function parseTrafficPolicy(body: unknown): TrafficPolicy {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationError('a traffic policy is a JSON object: {"canaryPercent": 0-100, "shadow": true|false}');
  }
  const record = body as Record<string, unknown>;
  const unknown = Object.keys(record).filter((key) => key !== 'canaryPercent' && key !== 'shadow');
  if (unknown.length > 0) throw new ValidationError(`unknown traffic policy field(s): ${unknown.join(', ')}; allowed: canaryPercent, shadow`);
  const canaryPercent = record.canaryPercent ?? 0;
  const shadow = record.shadow ?? false;
  if (typeof canaryPercent !== 'number' || !Number.isFinite(canaryPercent) || canaryPercent < 0 || canaryPercent > 100) {
    throw new ValidationError(`canaryPercent must be a number from 0 to 100, received ${JSON.stringify(canaryPercent)}`);
  }
  if (typeof shadow !== 'boolean') throw new ValidationError(`shadow must be true or false, received ${JSON.stringify(shadow)}`);
  return { canaryPercent, shadow };
}
