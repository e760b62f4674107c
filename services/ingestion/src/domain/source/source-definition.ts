// A data source's declared schema and validation policy, and the rules a definition must follow.
// Pure: the HTTP and gRPC adapters turn their payloads into `SourceDefinitionInput`, and
// `normalizeSourceDefinition` either returns the one canonical form or throws a ValidationError
// that names the field. The canonical form is what the event store records and what decides
// whether a PUT changed anything.
import { ValidationError } from '@loopline/errors';

export const columnTypes = ['int64', 'float64', 'string', 'bool', 'timestamp', 'date'] as const;
export type ColumnType = (typeof columnTypes)[number];

export const severities = ['off', 'warning', 'error'] as const;
export type Severity = (typeof severities)[number];

/** The anomaly rules a policy sets a severity for. */
export const ruleNames = [
  'typeMismatch',
  'nulls',
  'range',
  'categories',
  'emptyDataset',
  'unexpectedColumns',
  'rowCountChange',
  'distributionShift',
] as const;
export type RuleName = (typeof ruleNames)[number];

export const numericDriftMethods = ['psi', 'ks'] as const;
export type NumericDriftMethod = (typeof numericDriftMethods)[number];
export const categoricalDriftMethods = ['linf', 'js'] as const;
export type CategoricalDriftMethod = (typeof categoricalDriftMethods)[number];

/** Bounds are numbers for int64/float64, ISO-8601 text for timestamp (`…Z`) and date (`YYYY-MM-DD`). */
export type Bound = number | string;

export interface ColumnDefinition {
  readonly name: string;
  readonly type: ColumnType;
  readonly nullable: boolean;
  readonly min: Bound | null;
  readonly max: Bound | null;
  /** Allowed values of a string column; null for any value. */
  readonly categories: readonly string[] | null;
  /** Largest share of nulls for a nullable column; null for the policy's default. */
  readonly maxNullRate: number | null;
  /** Drift threshold overriding the policy's; null for the policy's. */
  readonly driftThreshold: number | null;
}

export interface ValidationPolicy {
  readonly rules: Readonly<Record<RuleName, Severity>>;
  readonly maxNullRate: number;
  readonly maxRowCountChange: number;
  readonly numericDrift: { readonly method: NumericDriftMethod; readonly threshold: number };
  readonly categoricalDrift: { readonly method: CategoricalDriftMethod; readonly threshold: number };
}

export interface SourceDefinition {
  readonly columns: readonly ColumnDefinition[];
  readonly eventTimeColumn: string | null;
  readonly entityColumns: readonly string[];
  readonly policy: ValidationPolicy;
  /**
   * Where the data is imported from when an `ingest` pipeline step gives no `uri`: an absolute
   * path (inside an import folder) or an `s3://bucket/key` URI. Absent when none (the key is
   * left out, so definitions recorded before it existed compare equal).
   */
  readonly defaultUri?: string;
}

/** What a client may send: everything but names and types is optional. */
export interface SourceDefinitionInput {
  readonly columns: readonly ColumnInput[];
  readonly eventTimeColumn?: string | null;
  readonly entityColumns?: readonly string[];
  readonly policy?: PolicyInput;
  readonly defaultUri?: string | null;
}

export interface ColumnInput {
  readonly name: string;
  readonly type: string;
  readonly nullable?: boolean;
  readonly min?: Bound | null;
  readonly max?: Bound | null;
  readonly categories?: readonly string[] | null;
  readonly maxNullRate?: number | null;
  readonly driftThreshold?: number | null;
}

export interface PolicyInput {
  readonly rules?: Partial<Record<string, string>>;
  readonly maxNullRate?: number | null;
  readonly maxRowCountChange?: number | null;
  readonly numericDrift?: { readonly method?: string; readonly threshold?: number | null } | null;
  readonly categoricalDrift?: { readonly method?: string; readonly threshold?: number | null } | null;
}

export const defaultSeverities: Readonly<Record<RuleName, Severity>> = {
  typeMismatch: 'error',
  nulls: 'error',
  range: 'error',
  categories: 'warning',
  emptyDataset: 'error',
  unexpectedColumns: 'warning',
  rowCountChange: 'warning',
  distributionShift: 'warning',
};

export const defaultThresholds = { psi: 0.2, ks: 0.1, linf: 0.1, js: 0.1 } as const;

export const sourceNamePattern = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
export const columnNamePattern = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** Reserved for the engine's own staging columns. */
const reservedPrefix = '__';

export const limits = { columns: 500, categories: 10_000, categoryChars: 1_000 } as const;

const isoDate = /^\d{4}-\d{2}-\d{2}$/;
const isoTimestamp = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** `ValidationError` unless `name` is a valid source name. */
export function assertSourceName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !sourceNamePattern.test(name)) {
    throw new ValidationError(
      `invalid source name ${JSON.stringify(name)}: use 1-64 letters, digits, "_" or "-", starting with a letter or digit`,
      { field: 'source', pattern: sourceNamePattern.source },
    );
  }
}

/** The canonical form of a definition, or a ValidationError naming the first broken rule. */
export function normalizeSourceDefinition(input: SourceDefinitionInput): SourceDefinition {
  if (!Array.isArray(input.columns) || input.columns.length === 0) {
    throw new ValidationError('a source declares at least one column', { field: 'columns' });
  }
  if (input.columns.length > limits.columns) throw new ValidationError(`a source declares at most ${limits.columns} columns`, { field: 'columns' });
  const columns = input.columns.map((column, index) => normalizeColumn(column, index));
  const byName = new Map<string, ColumnDefinition>();
  for (const column of columns) {
    if (byName.has(column.name)) throw new ValidationError(`column "${column.name}" is declared twice`, { field: 'columns', column: column.name });
    byName.set(column.name, column);
  }
  const eventTimeColumn = input.eventTimeColumn ?? null;
  if (eventTimeColumn !== null) {
    const column = byName.get(eventTimeColumn);
    if (!column) throw new ValidationError(`the event-time column "${eventTimeColumn}" is not a declared column`, { field: 'eventTimeColumn', column: eventTimeColumn });
    if (column.type !== 'timestamp' && column.type !== 'date') {
      throw new ValidationError(`the event-time column "${eventTimeColumn}" must be of type timestamp or date, not ${column.type}`, { field: 'eventTimeColumn', column: eventTimeColumn });
    }
  }
  const entityColumns = [...(input.entityColumns ?? [])];
  const seenEntities = new Set<string>();
  for (const name of entityColumns) {
    if (!byName.has(name)) throw new ValidationError(`the entity column "${name}" is not a declared column`, { field: 'entityColumns', column: name });
    if (seenEntities.has(name)) throw new ValidationError(`the entity column "${name}" is listed twice`, { field: 'entityColumns', column: name });
    seenEntities.add(name);
  }
  const defaultUri = normalizeDefaultUri(input.defaultUri);
  return { columns, eventTimeColumn, entityColumns, policy: normalizePolicy(input.policy ?? {}), ...(defaultUri !== null ? { defaultUri } : {}) };
}

/** An absolute path or an `s3://bucket/key` URI; whether the service may read it is checked when importing. */
function normalizeDefaultUri(value: string | null | undefined): string | null {
  if (value === undefined || value === null || value === '') return null;
  const isS3 = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/.+/.test(value);
  if (typeof value !== 'string' || value.length > 2_048 || (!isS3 && !value.startsWith('/'))) {
    throw new ValidationError(`defaultUri ${JSON.stringify(value)} must be an absolute path inside an import folder or an s3://bucket/key URI`, { field: 'defaultUri' });
  }
  return value;
}

function normalizeColumn(input: ColumnInput, index: number): ColumnDefinition {
  const field = `columns[${index}]`;
  if (typeof input?.name !== 'string' || !columnNamePattern.test(input.name) || input.name.startsWith(reservedPrefix)) {
    throw new ValidationError(
      `${field}.name ${JSON.stringify(input?.name)} is not a valid column name: letters, digits and "_", starting with a letter or "_" (not "__"), at most 128 characters`,
      { field: `${field}.name` },
    );
  }
  const name = input.name;
  if (!(columnTypes as readonly string[]).includes(input.type)) {
    throw new ValidationError(`column "${name}" has unknown type ${JSON.stringify(input.type)}: one of ${columnTypes.join(', ')}`, { field: `${field}.type`, column: name });
  }
  const type = input.type as ColumnType;
  const min = normalizeBound(name, type, 'min', input.min ?? null);
  const max = normalizeBound(name, type, 'max', input.max ?? null);
  if (min !== null && max !== null && compareBounds(min, max) > 0) {
    throw new ValidationError(`column "${name}": min ${String(min)} is greater than max ${String(max)}`, { field: `${field}.min`, column: name });
  }
  let categories: string[] | null = null;
  if (input.categories !== undefined && input.categories !== null) {
    if (type !== 'string') throw new ValidationError(`column "${name}": categories apply to string columns only`, { field: `${field}.categories`, column: name });
    if (!Array.isArray(input.categories) || input.categories.some((value) => typeof value !== 'string' || value.length > limits.categoryChars)) {
      throw new ValidationError(`column "${name}": categories must be strings of at most ${limits.categoryChars} characters`, { field: `${field}.categories`, column: name });
    }
    if (input.categories.length === 0 || input.categories.length > limits.categories) {
      throw new ValidationError(`column "${name}": give 1 to ${limits.categories} categories, or none for any value`, { field: `${field}.categories`, column: name });
    }
    // Sorted and unique: the same set of categories is the same definition.
    categories = [...new Set(input.categories)].sort();
  }
  return {
    name,
    type,
    nullable: input.nullable ?? true,
    min,
    max,
    categories,
    maxNullRate: optionalRate(input.maxNullRate, `${field}.maxNullRate`),
    driftThreshold: optionalNonNegative(input.driftThreshold, `${field}.driftThreshold`),
  };
}

function normalizeBound(column: string, type: ColumnType, which: 'min' | 'max', value: Bound | null): Bound | null {
  if (value === null) return null;
  const field = `${column}.${which}`;
  switch (type) {
    case 'int64':
    case 'float64': {
      const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof number !== 'number' || !Number.isFinite(number)) throw new ValidationError(`column "${column}": ${which} must be a finite number`, { field, column });
      if (type === 'int64' && !Number.isSafeInteger(number)) throw new ValidationError(`column "${column}": ${which} must be an integer`, { field, column });
      return number;
    }
    case 'timestamp': {
      if (typeof value !== 'string' || !isoTimestamp.test(value) || Number.isNaN(Date.parse(value))) {
        throw new ValidationError(`column "${column}": ${which} must be an ISO-8601 timestamp with a zone, e.g. 2001-01-01T00:00:00Z`, { field, column });
      }
      return new Date(Date.parse(value)).toISOString();
    }
    case 'date': {
      if (typeof value !== 'string' || !isoDate.test(value) || new Date(`${value}T00:00:00Z`).toISOString().slice(0, 10) !== value) {
        throw new ValidationError(`column "${column}": ${which} must be a date YYYY-MM-DD`, { field, column });
      }
      return value;
    }
    case 'string':
    case 'bool':
      throw new ValidationError(`column "${column}": ${which} applies to int64, float64, timestamp and date columns only`, { field, column });
    default: {
      const unreachable: never = type;
      throw new Error(`unknown column type ${String(unreachable)}`);
    }
  }
}

function compareBounds(a: Bound, b: Bound): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

function normalizePolicy(input: PolicyInput): ValidationPolicy {
  const rules = { ...defaultSeverities };
  for (const [rule, severity] of Object.entries(input.rules ?? {})) {
    if (!(ruleNames as readonly string[]).includes(rule)) {
      throw new ValidationError(`unknown policy rule "${rule}": one of ${ruleNames.join(', ')}`, { field: `policy.rules.${rule}` });
    }
    if (severity === undefined) continue;
    if (!(severities as readonly string[]).includes(severity)) {
      throw new ValidationError(`policy rule "${rule}" has severity ${JSON.stringify(severity)}: one of ${severities.join(', ')}`, { field: `policy.rules.${rule}` });
    }
    rules[rule as RuleName] = severity as Severity;
  }
  const numericMethod = input.numericDrift?.method ?? 'psi';
  if (!(numericDriftMethods as readonly string[]).includes(numericMethod)) {
    throw new ValidationError(`numeric drift method ${JSON.stringify(numericMethod)}: one of ${numericDriftMethods.join(', ')}`, { field: 'policy.numericDrift.method' });
  }
  const categoricalMethod = input.categoricalDrift?.method ?? 'linf';
  if (!(categoricalDriftMethods as readonly string[]).includes(categoricalMethod)) {
    throw new ValidationError(`categorical drift method ${JSON.stringify(categoricalMethod)}: one of ${categoricalDriftMethods.join(', ')}`, {
      field: 'policy.categoricalDrift.method',
    });
  }
  return {
    rules,
    maxNullRate: optionalRate(input.maxNullRate, 'policy.maxNullRate') ?? 1,
    maxRowCountChange: optionalNonNegative(input.maxRowCountChange, 'policy.maxRowCountChange') ?? 0.5,
    numericDrift: {
      method: numericMethod as NumericDriftMethod,
      threshold: optionalNonNegative(input.numericDrift?.threshold, 'policy.numericDrift.threshold') ?? defaultThresholds[numericMethod as NumericDriftMethod],
    },
    categoricalDrift: {
      method: categoricalMethod as CategoricalDriftMethod,
      threshold:
        optionalNonNegative(input.categoricalDrift?.threshold, 'policy.categoricalDrift.threshold') ?? defaultThresholds[categoricalMethod as CategoricalDriftMethod],
    },
  };
}

function optionalRate(value: number | null | undefined, field: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw new ValidationError(`${field} must be a number from 0 to 1`, { field });
  return value;
}

function optionalNonNegative(value: number | null | undefined, field: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new ValidationError(`${field} must be a non-negative number`, { field });
  return value;
}

/** Whether two canonical definitions are the same (a PUT of the current one changes nothing). */
export function sameDefinition(a: SourceDefinition, b: SourceDefinition): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** JSON with object keys sorted, so equal values give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))
      : inner,
  );
}

/** The order rows are stored in: event time, entity keys, then every other column as declared. */
export function canonicalSortColumns(definition: SourceDefinition): string[] {
  const first = [...(definition.eventTimeColumn ? [definition.eventTimeColumn] : []), ...definition.entityColumns];
  return [...first, ...definition.columns.map((column) => column.name).filter((name) => !first.includes(name))];
}

export function isNumericType(type: ColumnType): boolean {
  return type === 'int64' || type === 'float64' || type === 'timestamp' || type === 'date';
}
