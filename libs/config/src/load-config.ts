import { z } from 'zod';

/** Thrown at start when the environment does not describe a valid configuration; lists every bad key. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID' as const;
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses `env` with `schema`. Every invalid key is reported at once, named by its environment
 * variable, so an operator fixes a deployment in one pass instead of one restart per typo.
 */
export function loadConfig<S extends z.ZodTypeAny>(
  schema: S,
  env: Record<string, string | undefined>,
  /** Schema keys that stand for differently named variables, so errors name what the operator set. */
  variableNames: Readonly<Record<string, string>> = {},
): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const path = issue.path.join('.') || '(root)';
    const key = variableNames[path] ?? path;
    return `${key}: ${issue.message}`;
  });
  throw new ConfigError(problems);
}

/**
 * Runs one part of a service's configuration parse and adds its problems to `problems` instead of
 * throwing, so a service that reads several parts reports every bad key at once.
 */
export function collectProblems<T>(problems: string[], parse: () => T): T | undefined {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
    return undefined;
  }
}
