// Alert events as Kafka messages (CloudEvents, proto3 JSON) for the outbox, keyed by model name,
// and the evidence in the proto's JSON shape (what the REST API shows).
import { create, toJson, type JsonObject } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  AlertKind,
  AlertResolution,
  AlertResolvedSchema,
  AlertSeverity,
  DriftDetectedSchema,
  DriftEvidenceSchema,
  DriftStatistic,
  encodeEvent,
  MetricDirection,
  PerformanceDegradedSchema,
  PerformanceEvidenceSchema,
  type DriftEvidence,
  type PerformanceEvidence,
} from '@loopline/contracts';
import type { OutboxMessage } from '@loopline/eventsourcing';
import type { AlertKindName, ResolutionName } from '../postgres/monitoring-storage';

export const alertsTopic = 'loopline.monitoring.alerts.v1';
const source = '/loopline/monitoring';

export interface DriftEvidenceInput {
  readonly windowStartMs: number;
  readonly windowEndMs: number;
  readonly referenceUri: string;
  readonly sampleSize: number;
  readonly features: readonly { readonly feature: string; readonly method: string; readonly value: number; readonly threshold: number; readonly drifted: boolean }[];
  readonly driftedShare: number;
  readonly driftShareThreshold: number;
}

export interface PerformanceEvidenceInput {
  readonly metric: string;
  readonly value: number;
  readonly threshold: number;
  readonly higherIsBetter: boolean;
  readonly baselineValue?: number;
  readonly windowStartMs: number;
  readonly windowEndMs: number;
  readonly sampleSize: number;
}

export type EvidenceInput = { readonly kind: 'drift'; readonly drift: DriftEvidenceInput } | { readonly kind: 'performance'; readonly performance: PerformanceEvidenceInput };

const statistics: Record<string, DriftStatistic> = {
  ks: DriftStatistic.KOLMOGOROV_SMIRNOV,
  chisquare: DriftStatistic.CHI_SQUARED,
  z: DriftStatistic.Z,
  psi: DriftStatistic.PSI,
  jensenshannon: DriftStatistic.JENSEN_SHANNON,
  wasserstein: DriftStatistic.WASSERSTEIN,
};

function window(startMs: number, endMs: number) {
  return { start: timestampFromMs(startMs), end: timestampFromMs(endMs) };
}

export function driftEvidence(input: DriftEvidenceInput): DriftEvidence {
  const ordered = [...input.features].sort((a, b) => Number(b.drifted) - Number(a.drifted));
  return create(DriftEvidenceSchema, {
    window: window(input.windowStartMs, input.windowEndMs),
    referenceProfileUri: input.referenceUri,
    sampleSize: BigInt(input.sampleSize),
    features: ordered.map((feature) => ({
      featureName: feature.feature,
      statistic: statistics[feature.method] ?? DriftStatistic.UNSPECIFIED,
      value: feature.value,
      threshold: feature.threshold,
      drifted: feature.drifted,
    })),
    driftedFeatureShare: input.driftedShare,
    driftedFeatureShareThreshold: input.driftShareThreshold,
  });
}

export function performanceEvidence(input: PerformanceEvidenceInput): PerformanceEvidence {
  return create(PerformanceEvidenceSchema, {
    metricName: input.metric,
    value: input.value,
    threshold: input.threshold,
    direction: input.higherIsBetter ? MetricDirection.HIGHER_IS_BETTER : MetricDirection.LOWER_IS_BETTER,
    ...(input.baselineValue === undefined ? {} : { baselineValue: input.baselineValue }),
    window: window(input.windowStartMs, input.windowEndMs),
    sampleSize: BigInt(input.sampleSize),
  });
}

/** The evidence as the REST API shows it: the proto's JSON mapping. */
export function evidenceJson(evidence: EvidenceInput): JsonObject {
  return evidence.kind === 'drift'
    ? (toJson(DriftEvidenceSchema, driftEvidence(evidence.drift)) as JsonObject)
    : (toJson(PerformanceEvidenceSchema, performanceEvidence(evidence.performance)) as JsonObject);
}

export interface RaisedAlert {
  readonly eventId: string;
  readonly alertId: string;
  readonly modelName: string;
  readonly modelVersion: number;
  readonly monitorName: string;
  readonly severity: 'warning' | 'critical';
  readonly evidence: EvidenceInput;
  readonly detectedAt: Date;
}

export function raisedMessage(alert: RaisedAlert): OutboxMessage {
  const common = {
    alertId: alert.alertId,
    modelName: alert.modelName,
    modelVersion: alert.modelVersion,
    monitorName: alert.monitorName,
    severity: alert.severity === 'critical' ? AlertSeverity.CRITICAL : AlertSeverity.WARNING,
    detectedAt: timestampFromMs(alert.detectedAt.getTime()),
  };
  const message =
    alert.evidence.kind === 'drift'
      ? create(DriftDetectedSchema, { ...common, evidence: driftEvidence(alert.evidence.drift) })
      : create(PerformanceDegradedSchema, { ...common, evidence: performanceEvidence(alert.evidence.performance) });
  const encoded = encodeEvent({ topic: alertsTopic, key: alert.modelName, id: alert.eventId, source, time: alert.detectedAt, subject: `${alert.modelName}/${alert.modelVersion}`, message });
  return { topic: alertsTopic, key: encoded.key, value: encoded.value, headers: encoded.headers, eventId: alert.eventId };
}

export interface ResolvedAlert {
  readonly eventId: string;
  readonly alertId: string;
  readonly modelName: string;
  readonly modelVersion: number;
  readonly monitorName: string;
  readonly kind: AlertKindName;
  readonly resolution: ResolutionName;
  readonly evidence?: EvidenceInput;
  readonly actor: string;
  readonly reason: string;
  readonly resolvedAt: Date;
}

const resolutions: Record<ResolutionName, AlertResolution> = {
  recovered: AlertResolution.RECOVERED,
  model_replaced: AlertResolution.MODEL_REPLACED,
  dismissed: AlertResolution.DISMISSED,
};

export function resolvedMessage(alert: ResolvedAlert): OutboxMessage {
  const evidence =
    alert.evidence === undefined
      ? { case: undefined }
      : alert.evidence.kind === 'drift'
        ? { case: 'driftEvidence' as const, value: driftEvidence(alert.evidence.drift) }
        : { case: 'performanceEvidence' as const, value: performanceEvidence(alert.evidence.performance) };
  const message = create(AlertResolvedSchema, {
    alertId: alert.alertId,
    modelName: alert.modelName,
    modelVersion: alert.modelVersion,
    monitorName: alert.monitorName,
    alertKind: alert.kind === 'drift' ? AlertKind.DRIFT : AlertKind.PERFORMANCE,
    resolution: resolutions[alert.resolution],
    evidence,
    actor: alert.actor,
    reason: alert.reason,
    resolvedAt: timestampFromMs(alert.resolvedAt.getTime()),
  });
  const encoded = encodeEvent({ topic: alertsTopic, key: alert.modelName, id: alert.eventId, source, time: alert.resolvedAt, subject: `${alert.modelName}/${alert.modelVersion}`, message });
  return { topic: alertsTopic, key: encoded.key, value: encoded.value, headers: encoded.headers, eventId: alert.eventId };
}
