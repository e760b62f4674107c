// SQL text helpers: every value that reaches a query is quoted here, never concatenated raw.
import type { WindowRef } from '../../domain/monitor/monitor';

export function sqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export function sqlIdentifier(name: string): string {
  return `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;
}

export function sqlTime(ms: number): string {
  return `toDateTime64(${(ms / 1000).toFixed(3)}, 3, 'UTC')`;
}

export function sqlNumber(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
  return String(value);
}

/** Tables of the monitoring database. */
export interface Tables {
  readonly predictions: string;
  readonly labels: string;
  readonly referenceRows: string;
  readonly referenceSets: string;
}

export function tablesOf(database: string): Tables {
  const db = sqlIdentifier(database);
  return { predictions: `${db}.predictions`, labels: `${db}.labels`, referenceRows: `${db}.reference_rows`, referenceSets: `${db}.reference_sets` };
}

export interface RowSelection {
  readonly modelName: string;
  /** null: every version of the model. */
  readonly modelVersion: number | null;
  readonly window: WindowRef | null;
}

/**
 * The prediction rows of a window, deduplicated (`FINAL`: a redelivered batch is stored twice
 * until a merge, and must count once). Count windows are blocks of `size` rows in prediction
 * order (time, then id and row, so ties are stable).
 */
export function windowRowsSql(tables: Tables, selection: RowSelection, columns = '*'): string {
  const where = [`model_name = ${sqlString(selection.modelName)}`];
  if (selection.modelVersion !== null) where.push(`model_version = ${sqlNumber(selection.modelVersion)}`);
  const window = selection.window;
  if (window?.kind === 'time') where.push(`predicted_at >= ${sqlTime(window.startMs)}`, `predicted_at < ${sqlTime(window.endMs)}`);
  const base = `SELECT ${columns} FROM ${tables.predictions} FINAL WHERE ${where.join(' AND ')}`;
  if (window?.kind === 'count') {
    return `${base} ORDER BY predicted_at, prediction_id, row_index LIMIT ${sqlNumber(window.size)} OFFSET ${sqlNumber(window.offset)}`;
  }
  return base;
}

/** The value of one feature as a nullable column: absent from the row's maps is NULL, not 0 or ''. */
export function featureColumn(name: string, kind: 'numerical' | 'categorical'): string {
  const key = sqlString(name);
  return kind === 'numerical'
    ? `if(mapContains(num_inputs, ${key}), num_inputs[${key}], NULL) AS ${sqlIdentifier(name)}`
    : `if(mapContains(str_inputs, ${key}), str_inputs[${key}], NULL) AS ${sqlIdentifier(name)}`;
}

/** JSON numbers from ClickHouse: NaN/inf (an empty aggregate) become null. */
export function finiteOrNull(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const number = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(number) ? number : null;
}
