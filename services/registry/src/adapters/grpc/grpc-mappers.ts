// Registry views ↔ the messages of registry_service.proto, in the object form @grpc/proto-loader
// uses (camelCase fields, enums by name, 64-bit integers as strings, Timestamps as
// `{ seconds, nanos }`).
import { ValidationError } from '@loopline/errors';
import type { VersionMetadata } from '../../application/model-version-registration';
import type { ModelVersionView } from '../../application/registry-application';
import type { GateEvidence, ModelLineage, PromotionPolicy, RegisteredModel } from '../../domain/registered-model/registered-model';
import type { ModelSummary } from '../../projections/model-summaries.projection';

export interface TimestampObject {
  readonly seconds: string | number;
  readonly nanos: number;
}

export function timestampOf(iso: string): TimestampObject {
  const millis = Date.parse(iso);
  return { seconds: String(Math.floor(millis / 1000)), nanos: (millis % 1000) * 1_000_000 };
}

export function dateOf(timestamp: { seconds?: string | number | null; nanos?: number | null } | null | undefined): Date | undefined {
  if (!timestamp) return undefined;
  return new Date(Number(timestamp.seconds ?? 0) * 1000 + Math.floor((timestamp.nanos ?? 0) / 1_000_000));
}

export function modelMessage(model: RegisteredModel) {
  return {
    name: model.name,
    description: model.description,
    owner: model.owner,
    tags: model.tags,
    latestVersion: model.versions.length,
    aliases: model.aliases,
    createdAt: timestampOf(model.createdAt),
    promotionPolicy: model.policy === null ? null : policyMessage(model.policy),
  };
}

export function summaryMessage(summary: ModelSummary) {
  return {
    name: summary.name,
    description: summary.description,
    owner: summary.owner,
    tags: summary.tags,
    latestVersion: summary.latestVersion,
    aliases: summary.aliases,
    createdAt: timestampOf(summary.createdAt),
    promotionPolicy: null,
  };
}

export function artifactMessage(blob: { readonly sha256: string; readonly sizeBytes: number; readonly uri: string }) {
  return { uri: blob.uri, sha256: blob.sha256, sizeBytes: String(blob.sizeBytes), format: 'MODEL_FORMAT_ONNX' };
}

export function versionMessage(version: ModelVersionView) {
  return {
    modelName: version.name,
    modelVersion: version.version,
    artifact: artifactMessage(version.artifact),
    signature: version.signature,
    metrics: version.metrics,
    params: version.params,
    tags: version.tags,
    lineage: { ...version.lineage, params: version.params },
    description: version.description,
    status: version.status === 'READY' ? 'MODEL_VERSION_STATUS_READY' : 'MODEL_VERSION_STATUS_ARCHIVED',
    registeredAt: timestampOf(version.registeredAt),
    registeredBy: version.registeredBy,
    aliases: version.aliases,
    referenceProfile: version.referenceProfile === null ? null : { uri: version.referenceProfile.uri, sha256: version.referenceProfile.sha256, sizeBytes: String(version.referenceProfile.sizeBytes) },
  };
}

export function evidenceMessage(evidence: GateEvidence) {
  return {
    policyName: evidence.policyName,
    passed: evidence.passed,
    candidateModelVersion: evidence.candidateVersion,
    baselineModelVersion: evidence.baselineVersion ?? 0,
    baselineAlias: evidence.baselineAlias,
    checks: evidence.checks.map((check) => ({
      metricName: check.metric,
      candidateValue: check.candidateValue ?? Number.NaN,
      ...(check.baselineValue === null ? {} : { baselineValue: check.baselineValue }),
      threshold: check.threshold ?? Number.NaN,
      comparator: check.comparator === 'AT_LEAST' ? 'GATE_COMPARATOR_AT_LEAST' : 'GATE_COMPARATOR_AT_MOST',
      passed: check.passed,
      description: check.description,
    })),
  };
}

export function policyMessage(policy: PromotionPolicy) {
  return {
    name: policy.name,
    baselineAlias: policy.baselineAlias,
    thresholds: policy.thresholds.map((threshold) => ({
      metricName: threshold.metric,
      direction: `GATE_METRIC_DIRECTION_${threshold.direction}`,
      ...(threshold.lowerBound === null ? {} : { lowerBound: threshold.lowerBound }),
      ...(threshold.upperBound === null ? {} : { upperBound: threshold.upperBound }),
      ...(threshold.minImprovement === null ? {} : { minImprovement: threshold.minImprovement }),
      ...(threshold.maxDegradation === null ? {} : { maxDegradation: threshold.maxDegradation }),
    })),
  };
}

interface ThresholdInput {
  metricName?: string;
  direction?: string;
  lowerBound?: number | null;
  upperBound?: number | null;
  minImprovement?: number | null;
  maxDegradation?: number | null;
  _lowerBound?: string;
  _upperBound?: string;
  _minImprovement?: string;
  _maxDegradation?: string;
}

export interface PolicyInput {
  name?: string;
  baselineAlias?: string;
  thresholds?: ThresholdInput[];
}

/** A policy from its message; proto3 `optional` bounds are set only when their presence says so. */
export function policyFrom(input: PolicyInput | null | undefined): PromotionPolicy {
  if (!input) throw new ValidationError('policy is missing', { field: 'policy' });
  return {
    name: input.name || 'default',
    baselineAlias: input.baselineAlias || 'champion',
    thresholds: (input.thresholds ?? []).map((threshold, index) => {
      const direction = threshold.direction?.replace(/^GATE_METRIC_DIRECTION_/, '');
      if (direction !== 'HIGHER_IS_BETTER' && direction !== 'LOWER_IS_BETTER') {
        throw new ValidationError(`policy.thresholds[${index}].direction must be GATE_METRIC_DIRECTION_HIGHER_IS_BETTER or GATE_METRIC_DIRECTION_LOWER_IS_BETTER`, { field: 'policy.thresholds' });
      }
      return {
        metric: threshold.metricName ?? '',
        direction,
        lowerBound: present(threshold, 'lowerBound'),
        upperBound: present(threshold, 'upperBound'),
        minImprovement: present(threshold, 'minImprovement'),
        maxDegradation: present(threshold, 'maxDegradation'),
      };
    }),
  };
}

function present(threshold: ThresholdInput, field: 'lowerBound' | 'upperBound' | 'minImprovement' | 'maxDegradation'): number | null {
  const value = threshold[field];
  // With `oneofs: true` the loader names a set proto3-optional field in its synthetic oneof `_<field>`.
  const presence = threshold[`_${field}`];
  if (presence === undefined && (value === undefined || value === null)) return null;
  if (presence !== undefined && presence !== field) return null;
  return typeof value === 'number' ? value : null;
}

interface UploadInput {
  modelName?: string;
  description?: string;
  metrics?: Record<string, number>;
  params?: Record<string, string>;
  tags?: Record<string, string>;
  lineage?: Partial<ModelLineage> | null;
  referenceProfileJson?: string;
  requestId?: string;
}

export function uploadMetadataFrom(input: UploadInput): { name: string; metadata: VersionMetadata; idempotencyKey: string | null } {
  let referenceProfile: unknown = null;
  if (input.referenceProfileJson) {
    try {
      referenceProfile = JSON.parse(input.referenceProfileJson);
    } catch (error) {
      throw new ValidationError(`reference_profile_json is not JSON: ${error instanceof Error ? error.message : String(error)}`, { field: 'reference_profile_json' });
    }
  }
  const lineage = input.lineage ?? {};
  return {
    name: input.modelName ?? '',
    idempotencyKey: input.requestId ? input.requestId : null,
    metadata: {
      description: input.description ?? '',
      metrics: input.metrics ?? {},
      params: input.params ?? {},
      tags: input.tags ?? {},
      referenceProfile,
      lineage: {
        trainingRunId: lineage.trainingRunId ?? '',
        pipelineRunId: lineage.pipelineRunId ?? '',
        experimentName: lineage.experimentName ?? '',
        trainingSetId: lineage.trainingSetId ?? '',
        datasetVersionIds: lineage.datasetVersionIds ?? [],
        featureViews: (lineage.featureViews ?? []).map((view) => ({ viewName: view.viewName, viewVersion: view.viewVersion })),
        trainerName: lineage.trainerName ?? '',
        trainerVersion: lineage.trainerVersion ?? '',
        codeCommit: lineage.codeCommit ?? '',
      },
    },
  };
}
