// ClickHouse SQL of feature views, built from checked definitions only: names are validated
// identifiers, expressions are compiled by the whitelisting compiler, literals are escaped.
//
// Offline table of a view version: `fv_<view>__v<version>` in database `loopline_feature_store`,
// one partition per dataset version (so a materialization replaces its partition atomically and a
// rerun changes nothing), ordered by entity keys and event time. Pushed rows live in partition
// `push`, each tagged with the push sequence that wrote it.
import type { AppliedFeatureView } from '../../domain/definitions/catalog';
import type { ValueType } from '../../domain/definitions/definitions';
import { compileExpression, parseExpression, quoteColumn, sqlString } from '../../domain/definitions/expression';

export const offlineDatabase = 'loopline_feature_store';
export const pushPartition = 'push';

const clickHouseTypes: Record<ValueType, string> = {
  int64: 'Int64',
  double: 'Float64',
  string: 'String',
  bool: 'Bool',
  timestamp: "DateTime64(3, 'UTC')",
};

export function offlineTable(view: Pick<AppliedFeatureView, 'name' | 'version'>): string {
  return `${offlineDatabase}.\`fv_${view.name}__v${view.version}\``;
}

/** Join keys of a view, in entity order (resolved by the caller from the entities). */
export interface ViewShape {
  readonly view: AppliedFeatureView;
  readonly joinKeys: readonly string[];
}

export function createTableSql({ view, joinKeys }: ViewShape, table = offlineTable(view)): string {
  const columns = [
    '`dataset_version_id` String',
    ...joinKeys.map((key) => `${quoteColumn(key)} String`),
    "`event_time` DateTime64(3, 'UTC')",
    ...view.definition.features.map((feature) => `${quoteColumn(feature.name)} Nullable(${clickHouseTypes[feature.type]})`),
    '`push_sequence` UInt64',
  ];
  return `CREATE TABLE IF NOT EXISTS ${table} (${columns.join(', ')}) ENGINE = MergeTree PARTITION BY dataset_version_id ORDER BY (${[...joinKeys.map(quoteColumn), '`event_time`'].join(', ')})`;
}

/** The nullable ClickHouse type of a feature's values. */
export function nullableType(type: ValueType): string {
  return `Nullable(${clickHouseTypes[type]})`;
}

export function castTo(type: ValueType, sql: string): string {
  return `CAST(${sql} AS ${nullableType(type)})`;
}

/**
 * The SELECT that computes a view without windowed aggregations over a relation of source rows (a
 * `file(...)`, a `url(...)` or a table): one row per (entity, event time), each feature computed
 * from the row itself. When several source rows share an entity and an event time, the one whose
 * features sort first is kept: deterministic, so a rebuild is identical. A view with windowed
 * aggregations also reads the rows of earlier dataset versions: window-sql.ts.
 */
export function materializeSelectSql({ view, joinKeys }: ViewShape, relation: string, datasetVersionId: string): string {
  const definition = view.definition;
  const windowed = definition.features.find((feature) => feature.aggregation !== null);
  if (windowed) throw new Error(`feature ${windowed.name} of view ${view.name} is a windowed aggregation: materialize the view with window-sql.ts`);
  const time = quoteColumn(definition.timestampColumn);
  const inner: string[] = [
    ...joinKeys.map((key, index) => `toString(assumeNotNull(${quoteColumn(key)})) AS __k${index}`),
    `toDateTime64(assumeNotNull(${time}), 3, 'UTC') AS __t`,
  ];
  definition.features.forEach((feature, index) => {
    inner.push(`${compileExpression(parseExpression(feature.expression))} AS __e${index}`);
  });
  const keys = joinKeys.map((_, index) => `__k${index}`);
  const middle: string[] = [...keys, '__t', ...definition.features.map((feature, index) => `${castTo(feature.type, `__e${index}`)} AS __f${index}`)];
  const notNull = [...joinKeys.map(quoteColumn), time].map((column) => `${column} IS NOT NULL`).join(' AND ');
  const featureColumns = definition.features.map((_, index) => `__f${index}`);
  const outer = featureRowColumns({ view, joinKeys }, datasetVersionId, '__t', '__f');
  return [
    `SELECT ${outer.join(', ')} FROM (`,
    `SELECT ${middle.join(', ')} FROM (SELECT ${inner.join(', ')} FROM ${relation} WHERE ${notNull})`,
    `) ORDER BY ${[...keys, '__t', ...featureColumns].join(', ')} LIMIT 1 BY ${[...keys, '__t'].join(', ')}`,
  ].join('\n');
}

/**
 * A materialized row in the feature table's column order, from a query whose entity keys are
 * `__k<i>`, event time `eventTime` and feature i `<featurePrefix><i>`.
 */
export function featureRowColumns({ view, joinKeys }: ViewShape, datasetVersionId: string, eventTime: string, featurePrefix: string): string[] {
  return [
    `${sqlString(datasetVersionId)} AS dataset_version_id`,
    ...joinKeys.map((key, index) => `__k${index} AS ${quoteColumn(key)}`),
    `${eventTime} AS event_time`,
    ...view.definition.features.map((feature, index) => `${featurePrefix}${index} AS ${quoteColumn(feature.name)}`),
    'toUInt64(0) AS push_sequence',
  ];
}

/** The latest row per entity of one dataset version (with pushed rows, the online store gets those separately). */
export function latestPerEntitySql({ view, joinKeys }: ViewShape, datasetVersionId: string): string {
  const keys = joinKeys.map(quoteColumn);
  const columns = [...keys, 'toUnixTimestamp64Milli(event_time) AS event_time_ms', ...view.definition.features.map((feature) => quoteColumn(feature.name))];
  return `SELECT ${columns.join(', ')} FROM ${offlineTable(view)} WHERE dataset_version_id = ${sqlString(datasetVersionId)} ORDER BY ${keys.join(', ')}, event_time DESC LIMIT 1 BY ${keys.join(', ')}`;
}
