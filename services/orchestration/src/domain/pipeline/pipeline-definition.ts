// A pipeline definition once validated: a DAG of typed steps with parameters, triggers and
// outputs, normalized (defaults filled in, durations in milliseconds, dependencies explicit and
// steps in a topological order). It is what the pipeline stream records and what every run
// snapshots when it starts, so a run always executes the version it started with.
import type { JsonValue } from '../expressions/expression';
import type { StepKindName, ValueType } from './step-kinds';

export interface ParamSpec {
  readonly type: ValueType;
  readonly required: boolean;
  /** null when there is none (then the parameter is required, or null). */
  readonly default: JsonValue;
  readonly description: string;
}

export interface RetryPolicy {
  /** Retries after the first attempt: 0 means one attempt in all. */
  readonly limit: number;
  /** Wait before the first retry. */
  readonly backoffMs: number;
  /** Each further wait is the previous one times this. */
  readonly factor: number;
  readonly maxBackoffMs: number;
}

export interface StepDefinition {
  readonly id: string;
  readonly kind: StepKindName;
  /** Every step it waits for: those named in `dependsOn` and those its references read. Sorted. */
  readonly dependsOn: readonly string[];
  /** Inputs as written; texts may hold `${{ … }}` references, resolved when the task is ready. */
  readonly inputs: Readonly<Record<string, JsonValue>>;
  /** Condition (expression language); null = always. */
  readonly when: string | null;
  readonly retry: RetryPolicy;
  /** How long an attempt may take; null = no limit. */
  readonly timeoutMs: number | null;
  readonly cache: boolean;
  /** The step's code identity (image digest, trainer version, …), part of its cache key. */
  readonly codeVersion: string | null;
  /** Declared outputs of a `command` step (name → type); the catalog's for other kinds. */
  readonly outputs: Readonly<Record<string, ValueType>>;
}

export type ConcurrencyPolicy = 'allow' | 'skip' | 'queue' | 'replace';
export const concurrencyPolicies: readonly ConcurrencyPolicy[] = ['allow', 'skip', 'queue', 'replace'];

export interface TriggerDefinition {
  readonly name: string;
  readonly kind: 'schedule' | 'event';
  /** Schedule: cron expression (5 or 6 fields) and IANA time zone. */
  readonly cron: string | null;
  readonly timezone: string | null;
  /** Event: CloudEvents type (full proto name), the topic that carries it, and the filter. */
  readonly eventType: string | null;
  readonly topic: string | null;
  readonly where: string | null;
  /** Run parameters; for events, texts may read `${{ event.<field> }}`. */
  readonly params: Readonly<Record<string, JsonValue>>;
  /** What happens when the pipeline has an active run. */
  readonly concurrency: ConcurrencyPolicy;
  /** A matching event within this long after the trigger last fired is ignored. */
  readonly debounceMs: number;
}

export interface PipelineDefinition {
  readonly name: string;
  readonly description: string;
  readonly params: Readonly<Record<string, ParamSpec>>;
  /** In a topological order (a step after every step it depends on), stable otherwise. */
  readonly steps: readonly StepDefinition[];
  readonly triggers: readonly TriggerDefinition[];
  /** The run's results: name → value (references to step outputs and params). */
  readonly outputs: Readonly<Record<string, JsonValue>>;
  /** Code identity of the whole pipeline (e.g. the commit of the repository holding the steps). */
  readonly codeVersion: string | null;
}

/** One problem of a definition: where (a path into the document) and what. */
export interface DefinitionProblem {
  readonly path: string;
  readonly message: string;
}

/** What validation needs to know about the rest of the platform (kept out of the domain). */
export interface DefinitionEnvironment {
  /**
   * The event type with this CloudEvents type (or unique short name, e.g. `DriftDetected`): its
   * full name, its topic and the JSON names of its payload's fields. A list of candidates when
   * the short name is ambiguous; undefined when unknown.
   */
  eventType(name: string): { readonly typeName: string; readonly topic: string; readonly fields: readonly string[] } | { readonly candidates: readonly string[] } | undefined;
  /** Why the cron expression or the time zone is invalid; undefined when both are fine. */
  checkSchedule(cron: string, timezone: string): string | undefined;
}

export const pipelineNamePattern = /^[a-z0-9][a-z0-9._-]{0,99}$/;
export const stepIdPattern = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;
