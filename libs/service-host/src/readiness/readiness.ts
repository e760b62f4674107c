/**
 * Readiness: can this process do its job right now? Each dependency contributes one check; the
 * service is ready when every check passes. Liveness is separate and never waits on dependencies.
 */

/** One dependency probe. `probe` resolves (optionally with a detail) when it answers, and throws when it does not. */
export interface ReadinessCheck {
  readonly name: string;
  probe(): Promise<string | void>;
}

export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface ReadinessReport {
  readonly ready: boolean;
  readonly checks: readonly CheckResult[];
}

/** The body of `GET /health/ready`: 200 with `ready`, 503 with `not_ready`. */
export interface ReadinessBody {
  readonly status: 'ready' | 'not_ready';
  readonly checks: readonly CheckResult[];
}

/** Thrown by a check whose dependency has no address configured: never ready, never crashing. */
export class DependencyNotConfiguredError extends Error {
  readonly code = 'DEPENDENCY_NOT_CONFIGURED' as const;
  constructor(readonly envKey: string) {
    super(`${envKey} is not configured`);
    this.name = 'DependencyNotConfiguredError';
  }
}

export function notConfiguredCheck(name: string, envKey: string): ReadinessCheck {
  return {
    name,
    probe: () => Promise.reject(new DependencyNotConfiguredError(envKey)),
  };
}

/** The check that fails once shutdown has begun, so load balancers stop sending traffic. */
export const drainingResult: CheckResult = { name: 'shutdown', ok: false, detail: 'the service is shutting down' };

/** Ready iff every check passed; a service without dependencies is ready. */
export function aggregateReadiness(results: readonly CheckResult[]): ReadinessReport {
  return { ready: results.every((result) => result.ok), checks: results };
}

export function readinessBody(report: ReadinessReport): ReadinessBody {
  return { status: report.ready ? 'ready' : 'not_ready', checks: report.checks };
}

/**
 * Runs every check concurrently, each bounded by `timeoutMs`: a dependency that hangs is reported
 * as not answering rather than hanging the probe that asked.
 */
export async function runReadinessChecks(checks: readonly ReadinessCheck[], options: { readonly timeoutMs: number }): Promise<ReadinessReport> {
  const results = await Promise.all(checks.map((check) => runCheck(check, options.timeoutMs)));
  return aggregateReadiness(results);
}

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const detail = await Promise.race([check.probe(), timeout]);
    return { name: check.name, ok: true, detail: detail || 'ok' };
  } catch (error) {
    return { name: check.name, ok: false, detail: describeError(error) };
  } finally {
    clearTimeout(timer);
  }
}

/** Some client errors (kafkajs, AggregateError from dual-stack connects) carry the cause deeper. */
export function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return [...new Set(error.errors.map(describeError))].join('; ');
  }
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
