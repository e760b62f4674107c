// Prometheus metrics of the monitoring service, per model and version, on the service's /metrics:
// stored predictions and labelled ones (read from ClickHouse, exact), the latest drift share and
// metric values of each monitor, open alerts, and the sink's own counters.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Evaluation } from '../clickhouse/window-evaluator';
import type { AlertRecord } from '../postgres/monitoring-storage';
import type { VersionMetrics } from '../clickhouse/performance-sql';

export class MonitoringMetrics {
  private readonly predictions: Gauge<'model' | 'version'>;
  private readonly labelled: Gauge<'model' | 'version'>;
  private readonly latencyP99: Gauge<'model' | 'version'>;
  private readonly driftShare: Gauge<'model' | 'version' | 'monitor'>;
  private readonly featureDrift: Gauge<'model' | 'version' | 'monitor' | 'feature' | 'method'>;
  private readonly metricValue: Gauge<'model' | 'version' | 'monitor' | 'metric'>;
  private readonly openAlerts: Gauge<'model' | 'version' | 'kind'>;
  readonly ingestedRows: Counter<'table'>;
  readonly rejectedRecords: Counter;
  readonly evaluations: Counter<'monitor'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.predictions = new Gauge({ name: 'loopline_monitoring_predictions', help: 'Predictions stored (rows, deduplicated) per model and version.', labelNames: ['model', 'version'], registers });
    this.labelled = new Gauge({ name: 'loopline_monitoring_labelled_predictions', help: 'Stored predictions that have a ground-truth label, per model and version.', labelNames: ['model', 'version'], registers });
    this.latencyP99 = new Gauge({ name: 'loopline_monitoring_latency_p99_ms', help: 'p99 of logged prediction latency (ms), per model and version, over the stored log.', labelNames: ['model', 'version'], registers });
    this.driftShare = new Gauge({ name: 'loopline_monitoring_drift_share', help: 'Share of drifted features in the latest evaluated window of a drift monitor.', labelNames: ['model', 'version', 'monitor'], registers });
    this.featureDrift = new Gauge({ name: 'loopline_monitoring_feature_drift', help: 'Drift statistic of each feature in the latest evaluated window (p-value or distance, see method).', labelNames: ['model', 'version', 'monitor', 'feature', 'method'], registers });
    this.metricValue = new Gauge({ name: 'loopline_monitoring_metric_value', help: 'Value of a monitored metric (accuracy, roc_auc, rmse, latency_p99_ms…) in the latest evaluated window.', labelNames: ['model', 'version', 'monitor', 'metric'], registers });
    this.openAlerts = new Gauge({ name: 'loopline_monitoring_open_alerts', help: 'Unresolved alerts (open or acknowledged) per model, version and kind.', labelNames: ['model', 'version', 'kind'], registers });
    this.ingestedRows = new Counter({ name: 'loopline_monitoring_ingested_rows_total', help: 'Rows written to ClickHouse by the sink (redeliveries included), per table.', labelNames: ['table'], registers });
    this.rejectedRecords = new Counter({ name: 'loopline_monitoring_rejected_records_total', help: 'Kafka records skipped because they break their contract.', registers });
    this.evaluations = new Counter({ name: 'loopline_monitoring_evaluations_total', help: 'Monitor evaluations run, per monitor.', labelNames: ['monitor'], registers });
  }

  observeEvaluation(evaluation: Evaluation): void {
    const labels = { model: evaluation.modelName, version: String(evaluation.modelVersion), monitor: evaluation.monitorName };
    this.evaluations.inc({ monitor: evaluation.monitorName });
    if (evaluation.drift && evaluation.drift.verdict !== 'not_judged') {
      this.driftShare.set(labels, evaluation.drift.driftedShare);
      for (const feature of evaluation.drift.features) this.featureDrift.set({ ...labels, feature: feature.feature, method: feature.method }, feature.value);
    }
    if (evaluation.performance?.value !== null && evaluation.performance?.value !== undefined) {
      this.metricValue.set({ ...labels, metric: evaluation.performance.metric }, evaluation.performance.value);
    }
    for (const check of evaluation.slo?.checks ?? []) if (check.value !== null) this.metricValue.set({ ...labels, metric: check.metric }, check.value);
  }

  setModel(modelName: string, versions: readonly VersionMetrics[]): void {
    for (const version of versions) {
      const labels = { model: modelName, version: String(version.modelVersion) };
      this.predictions.set(labels, version.predictions);
      this.labelled.set(labels, version.labelled);
      if (version.latencyP99Ms !== null) this.latencyP99.set(labels, version.latencyP99Ms);
    }
  }

  setOpenAlerts(alerts: readonly AlertRecord[]): void {
    this.openAlerts.reset();
    for (const alert of alerts) this.openAlerts.inc({ model: alert.modelName, version: String(alert.modelVersion), kind: alert.kind });
  }
}
