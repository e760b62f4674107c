// ClickHouse SQL of views with windowed aggregations, whose windows reach into the dataset
// versions materialized before (domain/definitions/windows.ts says which and why).
//
// Each windowed view version keeps the rows it read in a source table `src_<view>__v<version>`
// (database `loopline_feature_store`), one partition per dataset version, written by the same
// stage-and-REPLACE-PARTITION swap as the feature table. A row there is one source row as the view
// sees it: entity keys and event time (normalized as in the feature table), a hash of the other
// columns the view reads (`__row`: with keys and time, the row's identity across versions), each
// row-level feature's value and each distinct aggregation input; plus the version's place in the view
// version's materialization order (`materialization_sequence`). A version's windows are computed
// over its own rows and, from the earlier versions, the rows it does not hold itself as often:
// each distinct row counts with the largest multiplicity it has in any one version.
import type { FeatureDefinition } from '../../domain/definitions/definitions';
import { columnsOf, compileExpression, parseExpression, quoteColumn, sqlString } from '../../domain/definitions/expression';
import { castTo, featureRowColumns, nullableType, offlineDatabase, type ViewShape } from './view-sql';

export function sourceTable(view: ViewShape['view']): string {
  return `${offlineDatabase}.\`src_${view.name}__v${view.version}\``;
}

/**
 * The columns of the source table besides keys, time and identity: each row-level feature's value
 * (`__f<i>`, feature i) and each distinct aggregation input (`__a<j>`; features aggregating the same
 * expression the same way share one, as the demo's 24 h and 7 d means of `delay` do).
 */
interface StoredLayout {
  readonly rowLevel: readonly { readonly column: string; readonly sql: string; readonly type: string }[];
  readonly inputs: readonly { readonly column: string; readonly sql: string }[];
  /** The input column of each aggregated feature, by feature index. */
  readonly inputOf: ReadonlyMap<number, string>;
}

function storedLayout(definition: ViewShape['view']['definition']): StoredLayout {
  const rowLevel: { column: string; sql: string; type: string }[] = [];
  const inputs: { column: string; sql: string }[] = [];
  const inputOf = new Map<number, string>();
  definition.features.forEach((feature, index) => {
    const value = compileExpression(parseExpression(feature.expression));
    if (!feature.aggregation) {
      rowLevel.push({ column: `__f${index}`, sql: castTo(feature.type, value), type: nullableType(feature.type) });
      return;
    }
    const sql = aggregationInput(feature, value);
    let input = inputs.find((candidate) => candidate.sql === sql);
    if (!input) inputs.push((input = { column: `__a${inputs.length}`, sql }));
    inputOf.set(index, input.column);
  });
  return { rowLevel, inputs, inputOf };
}

const keyColumns = (joinKeys: readonly string[]) => joinKeys.map((_, index) => `__k${index}`);

export function createSourceTableSql({ view, joinKeys }: ViewShape, table = sourceTable(view)): string {
  const layout = storedLayout(view.definition);
  const columns = [
    '`dataset_version_id` String',
    '`materialization_sequence` UInt64',
    ...keyColumns(joinKeys).map((key) => `${key} String`),
    // Epoch milliseconds: the windows' range frame orders by it, so a sorted read needs no sort.
    '__ms Int64',
    '__row UInt64',
    ...layout.rowLevel.map(({ column, type }) => `${column} ${type}`),
    ...layout.inputs.map(({ column }) => `${column} Nullable(Float64)`),
    // Earlier versions are read by event time: granules outside the range are skipped.
    'INDEX __ms_range __ms TYPE minmax GRANULARITY 1',
  ];
  return `CREATE TABLE IF NOT EXISTS ${table} (${columns.join(', ')}) ENGINE = MergeTree PARTITION BY dataset_version_id ORDER BY (${[...keyColumns(joinKeys), '__ms'].join(', ')})`;
}

/** What an aggregation aggregates, as stored: the value as a double, or (count) 1 where the value is not NULL. */
function aggregationInput(feature: FeatureDefinition, value: string): string {
  return feature.aggregation!.function === 'count' ? `CAST(if(isNull(${value}), NULL, 1) AS Nullable(Float64))` : `CAST(toFloat64(${value}) AS Nullable(Float64))`;
}

/**
 * The source rows of one dataset version as the source table stores them. `__row` hashes the
 * columns the view reads besides keys and time, by value (integers of any width hash alike) with a
 * NULL flag each, so the same row in two versions has the same identity.
 */
export function sourceRowsSelectSql({ view, joinKeys }: ViewShape, relation: string, datasetVersionId: string, sequence: number): string {
  const definition = view.definition;
  const layout = storedLayout(definition);
  const time = quoteColumn(definition.timestampColumn);
  const identity = new Set<string>();
  for (const feature of definition.features) for (const column of columnsOf(parseExpression(feature.expression))) identity.add(column);
  for (const column of [...joinKeys, definition.timestampColumn]) identity.delete(column);
  const hashed = [...identity].flatMap((column) => [`assumeNotNull(${quoteColumn(column)})`, `isNull(${quoteColumn(column)})`]);
  const columns = [
    `${sqlString(datasetVersionId)} AS dataset_version_id`,
    `toUInt64(${sequence}) AS materialization_sequence`,
    ...joinKeys.map((key, index) => `toString(assumeNotNull(${quoteColumn(key)})) AS __k${index}`),
    `toUnixTimestamp64Milli(toDateTime64(assumeNotNull(${time}), 3, 'UTC')) AS __ms`,
    hashed.length === 0 ? 'toUInt64(0) AS __row' : `cityHash64(${hashed.join(', ')}) AS __row`,
    ...[...layout.rowLevel, ...layout.inputs].map(({ column, sql }) => `${sql} AS ${column}`),
  ];
  const notNull = [...joinKeys.map(quoteColumn), time].map((column) => `${column} IS NOT NULL`).join(' AND ');
  return `SELECT ${columns.join(', ')} FROM ${relation} WHERE ${notNull}`;
}

/** The earlier versions a window computation reads, and the event times that can matter. */
export interface EarlierRows {
  readonly datasetVersionIds: readonly string[];
  /** `[startMs, endMs)` */
  readonly startMs: number;
  readonly endMs: number;
}

/**
 * A windowed aggregation. With `weighted`, each row stands for `__w` source rows (1 for the
 * version's own rows; for an earlier version's row, how many more times than here it occurred
 * there); without, every row counts once (no earlier version: the plain aggregates, cheaper).
 */
function aggregateSql(feature: FeatureDefinition, input: string, window: string, weighted: boolean): string {
  const aggregation = feature.aggregation!;
  const count = weighted ? `sum(if(isNull(${input}), toUInt64(0), __w)) OVER ${window}` : `count(${input}) OVER ${window}`;
  const sum = weighted ? `sum(${input} * __w) OVER ${window}` : `sum(${input}) OVER ${window}`;
  switch (aggregation.function) {
    case 'count':
      return count;
    case 'sum':
      return `ifNull(${sum}, 0)`;
    case 'mean':
      return `if(${count} = 0, NULL, ${sum} / ${count})`;
    case 'min':
      return `if(${count} = 0, NULL, min(${input}) OVER ${window})`;
    case 'max':
      return `if(${count} = 0, NULL, max(${input}) OVER ${window})`;
    default: {
      const unreachable: never = aggregation.function;
      throw new Error(`unknown aggregation ${String(unreachable)}`);
    }
  }
}

/**
 * The SELECT computing the feature rows of one dataset version from its source rows (`stage`, a
 * table in the source table's shape) and, when `earlier` names versions, the rows of those that
 * can fall in its windows. Only the version's own (entity, time) rows come out, in the feature
 * table's columns. Aggregations cover `[t − window, t)` of the entity (rows strictly before t, so a
 * label observed at t never feeds the features joined at t); of several rows of one entity at one
 * instant, the one whose features sort first is kept (deterministic, as without windows).
 */
export function windowedSelectSql({ view, joinKeys }: ViewShape, stage: string, datasetVersionId: string, earlier: EarlierRows | null): string {
  const definition = view.definition;
  const layout = storedLayout(definition);
  const keys = keyColumns(joinKeys);
  const aggregated = layout.inputs.map(({ column }) => column);
  const stored = [...layout.rowLevel.map(({ column }) => column), ...aggregated];
  const own = `SELECT ${[...keys, '__ms', 'toUInt8(1) AS __own', 'toUInt64(1) AS __w', ...stored].join(', ')} FROM ${stage}`;
  let rows = own;
  const weighted = earlier !== null && earlier.datasetVersionIds.length > 0;
  if (weighted) {
    const range = `__ms >= ${Math.trunc(earlier.startMs)} AND __ms < ${Math.trunc(earlier.endMs)}`;
    const identity = [...keys, '__ms', '__row'];
    const keyTuple = keys.length === 1 ? keys[0]! : `(${keys.join(', ')})`;
    const read = [...identity, ...aggregated].join(', ');
    // Per version, how often each distinct row occurs; per row, the most any earlier version has
    // beyond what this version has itself (0: this version already holds it as often). The inputs
    // are a function of the row's identity; min() only picks one deterministically.
    const perVersion = [
      `SELECT 1 AS __own, dataset_version_id AS __v, ${read} FROM ${stage} WHERE ${range}`,
      `SELECT 0 AS __own, dataset_version_id AS __v, ${read} FROM ${sourceTable(view)} WHERE dataset_version_id IN (${earlier.datasetVersionIds.map(sqlString).join(', ')}) AND ${range} AND ${keyTuple} IN (SELECT DISTINCT ${keys.join(', ')} FROM ${stage})`,
    ].join(' UNION ALL ');
    const counted = `SELECT __own, __v, ${identity.join(', ')}, ${aggregated.map((column) => `min(${column}) AS ${column}_any`).concat('count() AS __n').join(', ')} FROM (${perVersion}) GROUP BY __own, __v, ${identity.join(', ')}`;
    const extra = `SELECT ${identity.join(', ')}, ${aggregated.map((column) => `min(${column}_any) AS ${column}`).concat('toUInt64(max(__n) - sumIf(__n, __own = 1)) AS __w').join(', ')} FROM (${counted}) GROUP BY ${identity.join(', ')} HAVING __w > 0`;
    const extraColumns = [
      ...keys,
      '__ms',
      'toUInt8(0) AS __own',
      '__w',
      ...layout.rowLevel.map(({ column, type }) => `CAST(NULL AS ${type}) AS ${column}`),
      ...aggregated,
    ];
    rows = `${own} UNION ALL SELECT ${extraColumns.join(', ')} FROM (${extra})`;
  }
  const windows = new Map<number, string>();
  const computed = definition.features.map((feature, index) => {
    if (!feature.aggregation) return `__f${index} AS __o${index}`;
    const seconds = feature.aggregation.windowSeconds;
    if (!windows.has(seconds)) windows.set(seconds, `__w${windows.size}`);
    return `${castTo(feature.type, aggregateSql(feature, layout.inputOf.get(index)!, windows.get(seconds)!, weighted))} AS __o${index}`;
  });
  const windowClause = [...windows].map(([seconds, name]) => `${name} AS (PARTITION BY ${keys.join(', ')} ORDER BY __ms RANGE BETWEEN ${seconds * 1000} PRECEDING AND 1 PRECEDING)`).join(', ');
  const outputs = definition.features.map((_, index) => `__o${index}`);
  const outer = featureRowColumns({ view, joinKeys }, datasetVersionId, "fromUnixTimestamp64Milli(__ms, 'UTC')", '__o');
  return [
    `SELECT ${outer.join(', ')} FROM (`,
    `SELECT ${[...keys, '__ms', '__own', ...computed].join(', ')} FROM (${rows}) WINDOW ${windowClause}`,
    `) WHERE __own = 1 ORDER BY ${[...keys, '__ms', ...outputs].join(', ')} LIMIT 1 BY ${[...keys, '__ms'].join(', ')}`,
  ].join('\n');
}

/** Per dataset version of the source table: its place in the materialization order and its event-time range. */
export function recordedVersionsSql(view: ViewShape['view']): string {
  return `SELECT dataset_version_id, min(materialization_sequence) AS sequence, min(__ms) AS start_ms, max(__ms) AS end_ms FROM ${sourceTable(view)} GROUP BY dataset_version_id ORDER BY sequence, dataset_version_id`;
}
