// The point-in-time join of a training set: for each labelled entity row at time t, each view
// contributes the latest feature row of the same entity with event time ≤ t (ClickHouse
// `ASOF LEFT JOIN ... e.t >= f.event_time`), withheld when older than the view's TTL measured back
// from t. A feature row from after t can never match. Output rows keep the entity file's order.
import { quoteColumn, sqlString } from '../../domain/definitions/expression';
import { offlineTable, pushPartition, type ViewShape } from './view-sql';

export const entitiesPlaceholder = '{{entities}}';

export interface JoinedView {
  readonly shape: ViewShape;
  /** Rows of this dataset version (none when `null`), plus pushed rows up to `pushHorizon`. */
  readonly datasetVersionId: string | null;
  /**
   * Several dataset versions to join instead of `datasetVersionId`, newest first. Where two hold a
   * row of the same entity at the same time, the newest version's row is the one joined.
   */
  readonly datasetVersionIds?: readonly string[];
  readonly pushHorizon: number;
  readonly ttlSeconds: number | null;
  /** Features to add, and the output column of each. */
  readonly features: readonly { readonly feature: string; readonly column: string }[];
}

export interface TrainingSetQuery {
  /** Columns of the entity file, all kept, in order. */
  readonly entityColumns: readonly string[];
  readonly eventTimeColumn: string;
  readonly startMs: number | null;
  readonly endMs: number | null;
  readonly views: readonly JoinedView[];
}

/** Back-quotes any column name a Parquet file may hold. */
export function quoteAnyIdentifier(name: string): string {
  return `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;
}

function timestampLiteral(ms: number): string {
  return `fromUnixTimestamp64Milli(toInt64(${Math.trunc(ms)}), 'UTC')`;
}

/**
 * The SELECT of a training set. `{{entities}}` stands for the relation of the entity rows (the
 * caller substitutes `file('…', Parquet)`), so the recorded query does not depend on where a file
 * happened to be stored.
 */
export function trainingSetSql(query: TrainingSetQuery): string {
  const time = quoteAnyIdentifier(query.eventTimeColumn);
  const keyNames = [...new Set(query.views.flatMap((view) => view.shape.joinKeys))];
  const entitySelect = [
    ...query.entityColumns.map(quoteAnyIdentifier),
    'rowNumberInAllBlocks() AS __row',
    `toDateTime64(assumeNotNull(${time}), 3, 'UTC') AS __t`,
    ...keyNames.map((key, index) => `toString(${quoteColumn(key)}) AS __ek${index}`),
  ];
  const filters = [`${time} IS NOT NULL`];
  if (query.startMs !== null) filters.push(`toDateTime64(${time}, 3, 'UTC') >= ${timestampLiteral(query.startMs)}`);
  if (query.endMs !== null) filters.push(`toDateTime64(${time}, 3, 'UTC') < ${timestampLiteral(query.endMs)}`);

  const joins: string[] = [];
  const outputs = query.entityColumns.map((column) => `e.${quoteAnyIdentifier(column)} AS ${quoteAnyIdentifier(column)}`);
  query.views.forEach((joined, viewIndex) => {
    const alias = `j${viewIndex}`;
    const keys = joined.shape.joinKeys;
    const several = joined.datasetVersionIds !== undefined && joined.datasetVersionIds.length > 1 ? joined.datasetVersionIds : null;
    const versionFilter =
      several !== null ? [`dataset_version_id IN (${several.map(sqlString).join(', ')})`]
      : joined.datasetVersionId === null ? []
      : [`dataset_version_id = ${sqlString(joined.datasetVersionId)}`];
    const rows = [...versionFilter, `(dataset_version_id = ${sqlString(pushPartition)} AND push_sequence <= ${Math.trunc(joined.pushHorizon)})`].join(' OR ');
    const select = [
      ...keys.map((key, index) => `${quoteColumn(key)} AS __${alias}k${index}`),
      `event_time AS __${alias}t`,
      ...joined.features.map((feature, index) => `${quoteColumn(feature.feature)} AS __${alias}f${index}`),
    ];
    const on = [...keys.map((key, index) => `e.__ek${keyNames.indexOf(key)} = ${alias}.__${alias}k${index}`), `e.__t >= ${alias}.__${alias}t`];
    let right = `SELECT ${select.join(', ')} FROM ${offlineTable(joined.shape.view)} WHERE ${rows}`;
    if (several !== null) {
      // One row per (entity, time): the newest version's (pushed rows, at priority 0, first).
      const rowKey = [...keys.map((_, index) => `__${alias}k${index}`), `__${alias}t`].join(', ');
      const priority = `indexOf([${several.map(sqlString).join(', ')}], dataset_version_id) AS __${alias}p`;
      right = `SELECT ${select.join(', ')}, ${priority} FROM ${offlineTable(joined.shape.view)} WHERE ${rows} ORDER BY ${rowKey}, __${alias}p LIMIT 1 BY ${rowKey}`;
    }
    joins.push(`ASOF LEFT JOIN (${right}) AS ${alias} ON ${on.join(' AND ')}`);
    const expired =
      joined.ttlSeconds === null
        ? `${alias}.__${alias}t IS NULL`
        : `${alias}.__${alias}t IS NULL OR toUnixTimestamp64Milli(e.__t) - toUnixTimestamp64Milli(${alias}.__${alias}t) > ${joined.ttlSeconds * 1000}`;
    joined.features.forEach((feature, index) => {
      outputs.push(`if(${expired}, NULL, ${alias}.__${alias}f${index}) AS ${quoteAnyIdentifier(feature.column)}`);
    });
  });
  return [
    `SELECT ${outputs.join(', ')}`,
    `FROM (SELECT ${entitySelect.join(', ')} FROM ${entitiesPlaceholder} WHERE ${filters.join(' AND ')}) AS e`,
    ...joins,
    'ORDER BY e.__row',
  ].join('\n');
}
