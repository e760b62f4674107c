// The JSON the REST API answers with (the agreed monitoring API): extend, never rename.
import type { StoredPrediction } from '../clickhouse/log-store';
import type { VersionMetrics } from '../clickhouse/performance-sql';
import type { AlertRecord, MonitorRecord } from '../postgres/monitoring-storage';

export function presentPrediction(prediction: StoredPrediction) {
  return {
    predictionId: prediction.predictionId,
    requestId: prediction.requestId,
    modelName: prediction.modelName,
    modelVersion: prediction.modelVersion,
    alias: prediction.alias,
    trafficRole: prediction.trafficRole,
    entityKeys: prediction.entityKeys,
    inputs: prediction.inputs,
    outputs: prediction.outputs,
    latencyMs: prediction.latencyMs,
    predictedAt: prediction.predictedAt,
    rows: prediction.rowCount,
    label: prediction.label,
  };
}

export function presentPerformance(modelName: string, targetName: string | null, versions: readonly VersionMetrics[]) {
  return {
    modelName,
    targetName,
    versions: versions.map((version) => ({
      version: version.modelVersion,
      trafficRole: version.trafficRole,
      predictions: version.predictions,
      labelled: version.labelled,
      task: version.task,
      metrics: version.task === 'regression' ? version.regression : version.classification,
      latencyP99Ms: version.latencyP99Ms,
    })),
  };
}

export function presentMonitor(record: MonitorRecord) {
  const spec = record.spec;
  return {
    name: spec.name,
    modelName: spec.modelName,
    ...(spec.version === null ? { alias: spec.alias ?? 'champion' } : { version: spec.version }),
    window: spec.window,
    ...(spec.drift ? { drift: spec.drift } : {}),
    ...(spec.performance ? { performance: spec.performance } : {}),
    ...(spec.slo ? { slo: spec.slo } : {}),
    severity: spec.severity,
    automatic: record.automatic,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    followedVersion: record.state.modelVersion ?? null,
    lastEvaluatedAt: record.state.lastEvaluatedAt ?? null,
    lastEvaluation: record.state.lastEvaluation ?? null,
  };
}

export function presentAlert(alert: AlertRecord) {
  return {
    alertId: alert.alertId,
    kind: alert.kind,
    modelName: alert.modelName,
    modelVersion: alert.modelVersion,
    monitorName: alert.monitorName,
    severity: alert.severity,
    status: alert.status,
    evidence: alert.evidence,
    detectedAt: alert.detectedAt,
    ...(alert.acknowledgedAt ? { acknowledgedAt: alert.acknowledgedAt, acknowledgedBy: alert.acknowledgedBy, ...(alert.acknowledgeNote ? { note: alert.acknowledgeNote } : {}) } : {}),
    ...(alert.resolvedAt ? { resolvedAt: alert.resolvedAt, resolution: alert.resolution, resolvedBy: alert.resolvedBy, ...(alert.resolutionReason ? { reason: alert.resolutionReason } : {}) } : {}),
  };
}
