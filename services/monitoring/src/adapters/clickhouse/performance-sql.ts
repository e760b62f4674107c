// Quality metrics of predictions joined with their ground truth, computed inside ClickHouse.
//
// A label reaches a prediction row either by prediction id (and row), or by entity key and time:
// it scores the latest prediction of each model version for those keys at or before the label's
// event time (each prediction row owns the labels of [its time, the next prediction's time) for
// its entity). Several labels for one row: the one received last wins (a correction). Rows without
// a label are unlabelled and never count as wrong: every metric is over labelled rows only.
import { finiteOrNull, sqlString, windowRowsSql, type RowSelection, type Tables } from './sql';

export interface LabelledQuery extends RowSelection {
  /** null: labels of any target (counts only). */
  readonly targetName: string | null;
}

/** The window's rows with `y_text`, `y_number` and `labelled` (0/1) columns. */
export function labelledRowsSql(tables: Tables, query: LabelledQuery): string {
  const model = sqlString(query.modelName);
    const versionFilter = query.modelVersion === null ? '' : ` AND model_version = ${query.modelVersion}`;
  const labelScope = `${query.targetName === null ? '' : `target_name = ${sqlString(query.targetName)} AND `}model_name IN ('', ${model})`;
  return `
    WITH
      window_rows AS (${windowRowsSql(tables, query, 'prediction_id, row_index, model_version, traffic_role, predicted_label, predicted_score, predicted_value, latency_ms, predicted_at')}),
      direct AS (
        SELECT prediction_id, row_index, argMax(value_text, received_at) AS y_text, argMax(value_number, received_at) AS y_number, 1 AS hit
        FROM ${tables.labels} FINAL
        WHERE prediction_id != '' AND ${labelScope}
          AND (prediction_id, row_index) IN (SELECT prediction_id, row_index FROM window_rows)
        GROUP BY prediction_id, row_index),
      spans AS (
        SELECT prediction_id, row_index, entity_key, predicted_at,
          leadInFrame(predicted_at, 1, toDateTime64('2200-01-01 00:00:00', 3, 'UTC'))
            OVER (PARTITION BY model_version, entity_key ORDER BY predicted_at, prediction_id, row_index
                  ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS next_at
        FROM ${tables.predictions} FINAL
        WHERE model_name = ${model}${versionFilter} AND entity_key != ''),
      by_entity AS (
        SELECT s.prediction_id AS prediction_id, s.row_index AS row_index,
          argMax(l.value_text, l.received_at) AS y_text, argMax(l.value_number, l.received_at) AS y_number, 1 AS hit
        FROM spans AS s
        INNER JOIN (SELECT entity_key, value_text, value_number, event_time, received_at FROM ${tables.labels} FINAL WHERE prediction_id = '' AND ${labelScope}) AS l
          ON l.entity_key = s.entity_key
        WHERE l.event_time >= s.predicted_at AND l.event_time < s.next_at
          AND (s.prediction_id, s.row_index) IN (SELECT prediction_id, row_index FROM window_rows)
        GROUP BY s.prediction_id, s.row_index)
    SELECT w.model_version AS model_version, w.traffic_role AS traffic_role,
      w.predicted_label AS predicted_label, w.predicted_score AS predicted_score, w.predicted_value AS predicted_value,
      w.latency_ms AS latency_ms, w.predicted_at AS predicted_at,
      if(d.hit = 1, d.y_text, e.y_text) AS y_text,
      if(d.hit = 1, d.y_number, e.y_number) AS y_number,
      toUInt8(d.hit = 1 OR e.hit = 1) AS labelled
    FROM window_rows AS w
    LEFT JOIN direct AS d ON d.prediction_id = w.prediction_id AND d.row_index = w.row_index
    LEFT JOIN by_entity AS e ON e.prediction_id = w.prediction_id AND e.row_index = w.row_index`;
}

export interface VersionMetrics {
  readonly modelVersion: number;
  readonly trafficRole: string;
  readonly predictions: number;
  readonly labelled: number;
  readonly latencyP99Ms: number | null;
  readonly classification: {
    readonly accuracy: number | null;
    readonly roc_auc: number | null;
    readonly log_loss: number | null;
    readonly precision: number | null;
    readonly recall: number | null;
    readonly f1: number | null;
  };
  readonly regression: { readonly rmse: number | null; readonly mae: number | null };
  /** Whether the labelled rows look like classification (a predicted label or score) or regression. */
  readonly task: 'classification' | 'regression' | 'unknown';
}

/**
 * Per model version: counts, p99 latency and every metric; the positive class of binary metrics
 * is `1` (`true`), the score is the positive class's probability; ROC AUC by ranking the scores
 * (average ranks for ties, the Mann-Whitney form).
 */
export function metricsSql(labelledSql: string): string {
  return `
    WITH t AS (${labelledSql}),
      auc AS (
        SELECT model_version,
          if(np = 0 OR nn = 0, nan, (sum(pos * (cum - (cnt - 1) / 2)) - any(np) * (any(np) + 1) / 2) / (any(np) * any(nn))) AS roc_auc
        FROM (
          SELECT model_version, cnt, pos, cum, np, total - np AS nn FROM (
            SELECT model_version, predicted_score, count() AS cnt, countIf(y_text = '1') AS pos,
              sum(count()) OVER (PARTITION BY model_version ORDER BY predicted_score ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cum,
              sum(countIf(y_text = '1')) OVER (PARTITION BY model_version) AS np,
              sum(count()) OVER (PARTITION BY model_version) AS total
            FROM t WHERE labelled = 1 AND predicted_score IS NOT NULL
            GROUP BY model_version, predicted_score))
        GROUP BY model_version, np, nn)
    SELECT t.model_version AS model_version,
      argMax(t.traffic_role, t.predicted_at) AS traffic_role,
      count() AS predictions,
      countIf(t.labelled = 1) AS labelled,
      quantileExact(0.99)(t.latency_ms) AS latency_p99_ms,
      countIf(t.labelled = 1 AND t.predicted_label IS NOT NULL) AS with_label,
      countIf(t.labelled = 1 AND t.predicted_score IS NOT NULL) AS with_score,
      countIf(t.labelled = 1 AND t.predicted_value IS NOT NULL AND t.y_number IS NOT NULL) AS with_value,
      avgIf(toFloat64(t.predicted_label = t.y_text), t.labelled = 1 AND t.predicted_label IS NOT NULL) AS accuracy,
      countIf(t.labelled = 1 AND t.predicted_label = '1' AND t.y_text = '1') AS tp,
      countIf(t.labelled = 1 AND t.predicted_label = '1') AS predicted_positive,
      countIf(t.labelled = 1 AND t.predicted_label IS NOT NULL AND t.y_text = '1') AS actual_positive,
      avgIf(-(if(t.y_text = '1', log(least(greatest(assumeNotNull(t.predicted_score), 1e-15), 1 - 1e-15)), log(1 - least(greatest(assumeNotNull(t.predicted_score), 1e-15), 1 - 1e-15)))),
        t.labelled = 1 AND t.predicted_score IS NOT NULL) AS log_loss,
      sqrt(avgIf(pow(assumeNotNull(t.predicted_value) - assumeNotNull(t.y_number), 2), t.labelled = 1 AND t.predicted_value IS NOT NULL AND t.y_number IS NOT NULL)) AS rmse,
      avgIf(abs(assumeNotNull(t.predicted_value) - assumeNotNull(t.y_number)), t.labelled = 1 AND t.predicted_value IS NOT NULL AND t.y_number IS NOT NULL) AS mae,
      any(a.roc_auc) AS roc_auc
    FROM t LEFT JOIN auc AS a ON a.model_version = t.model_version
    GROUP BY t.model_version
    ORDER BY t.model_version`;
}

export interface MetricsRow {
  readonly model_version: number | string;
  readonly traffic_role: string;
  readonly predictions: number | string;
  readonly labelled: number | string;
  readonly latency_p99_ms: unknown;
  readonly with_label: number | string;
  readonly with_score: number | string;
  readonly with_value: number | string;
  readonly accuracy: unknown;
  readonly tp: number | string;
  readonly predicted_positive: number | string;
  readonly actual_positive: number | string;
  readonly log_loss: unknown;
  readonly rmse: unknown;
  readonly mae: unknown;
  readonly roc_auc: unknown;
}

export function versionMetrics(row: MetricsRow): VersionMetrics {
  const tp = Number(row.tp);
  const predictedPositive = Number(row.predicted_positive);
  const actualPositive = Number(row.actual_positive);
  const precision = predictedPositive > 0 ? tp / predictedPositive : null;
  const recall = actualPositive > 0 ? tp / actualPositive : null;
  const f1 = predictedPositive + actualPositive > 0 && Number(row.with_label) > 0 ? (2 * tp) / (predictedPositive + actualPositive) : null;
  const withLabel = Number(row.with_label);
  const withScore = Number(row.with_score);
  const withValue = Number(row.with_value);
  return {
    modelVersion: Number(row.model_version),
    trafficRole: row.traffic_role,
    predictions: Number(row.predictions),
    labelled: Number(row.labelled),
    latencyP99Ms: finiteOrNull(row.latency_p99_ms),
    classification: {
      accuracy: withLabel > 0 ? finiteOrNull(row.accuracy) : null,
      roc_auc: withScore > 0 ? finiteOrNull(row.roc_auc) : null,
      log_loss: withScore > 0 ? finiteOrNull(row.log_loss) : null,
      precision,
      recall,
      f1,
    },
    regression: { rmse: withValue > 0 ? finiteOrNull(row.rmse) : null, mae: withValue > 0 ? finiteOrNull(row.mae) : null },
    task: withLabel > 0 || withScore > 0 ? 'classification' : withValue > 0 ? 'regression' : 'unknown',
  };
}
