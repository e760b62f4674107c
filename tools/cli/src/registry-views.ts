// The registry's REST answers as the CLI reads them (services/registry presenters), and how a
// promotion gate's evidence and a model's history events are put into words.
import { number } from './cli-output';

export interface TensorSpec {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
}

export interface ModelLineage {
  readonly trainingRunId: string;
  readonly pipelineRunId: string;
  readonly experimentName: string;
  readonly trainingSetId: string;
  readonly datasetVersionIds: readonly string[];
  readonly featureViews: readonly { readonly viewName: string; readonly viewVersion: number }[];
  readonly trainerName: string;
  readonly trainerVersion: string;
  readonly codeCommit: string;
}

export interface ModelVersionJson {
  readonly name: string;
  readonly version: number;
  readonly status: string;
  readonly description: string;
  readonly artifact: { readonly sha256: string; readonly sizeBytes: number; readonly uri: string };
  readonly signature: { readonly inputs: readonly TensorSpec[]; readonly outputs: readonly TensorSpec[] };
  readonly metrics: Readonly<Record<string, number>>;
  readonly params: Readonly<Record<string, string>>;
  readonly tags: Readonly<Record<string, string>>;
  readonly lineage: ModelLineage;
  readonly referenceProfile: { readonly sha256: string } | null;
  readonly aliases: readonly string[];
  readonly registeredAt: string;
  readonly registeredBy: string;
}

export interface MetricThreshold {
  readonly metric: string;
  readonly direction: 'HIGHER_IS_BETTER' | 'LOWER_IS_BETTER';
  readonly lowerBound: number | null;
  readonly upperBound: number | null;
  readonly minImprovement: number | null;
  readonly maxDegradation: number | null;
}

export interface PromotionPolicy {
  readonly name: string;
  readonly baselineAlias: string;
  readonly thresholds: readonly MetricThreshold[];
}

export interface ModelJson {
  readonly name: string;
  readonly description: string;
  readonly owner: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly latestVersion: number;
  readonly aliases: Readonly<Record<string, number>>;
  readonly createdAt: string;
  readonly createdBy?: string;
  readonly promotionPolicy?: PromotionPolicy | null;
}

export interface GateCheck {
  readonly metric: string;
  readonly kind: string;
  readonly comparator: 'AT_LEAST' | 'AT_MOST';
  readonly candidateValue: number | null;
  readonly baselineValue: number | null;
  readonly threshold: number | null;
  readonly passed: boolean;
  readonly description: string;
}

export interface GateEvidence {
  readonly policyName: string;
  readonly passed: boolean;
  readonly candidateVersion: number;
  readonly baselineAlias: string;
  readonly baselineVersion: number | null;
  readonly checks: readonly GateCheck[];
}

export interface HistoryEvent {
  readonly position: number;
  readonly eventId: string;
  readonly type: string;
  readonly time: string;
  readonly actor: string;
  readonly data: Readonly<Record<string, unknown>>;
}

const optional = (value: number | null) => (value === null ? 'n/a' : number(value));

/** The gate's verdict and every comparison it made, one line each. */
export function evidenceLines(evidence: GateEvidence, indent = '  '): string[] {
  const baseline = evidence.baselineVersion === null ? `no version holds "${evidence.baselineAlias}": change checks have no baseline` : `baseline ${evidence.baselineAlias} = v${evidence.baselineVersion}`;
  const lines = [`${indent}gate "${evidence.policyName}" ${evidence.passed ? 'PASSED' : 'REFUSED'} version ${evidence.candidateVersion} (${baseline})`];
  const width = Math.max(0, ...evidence.checks.map((check) => check.description.length));
  for (const check of evidence.checks) {
    const baselineValue = check.baselineValue === null ? '' : `  baseline ${optional(check.baselineValue)}`;
    lines.push(`${indent}  ${check.passed ? '✔' : '✖'} ${check.description.padEnd(width)}  candidate ${optional(check.candidateValue)}${baselineValue}  limit ${optional(check.threshold)}`);
  }
  if (evidence.checks.length === 0) lines.push(`${indent}  (the policy has no checks)`);
  return lines;
}

function thresholdWords(threshold: MetricThreshold): string {
  const rules: string[] = [];
  if (threshold.lowerBound !== null) rules.push(`≥ ${number(threshold.lowerBound)}`);
  if (threshold.upperBound !== null) rules.push(`≤ ${number(threshold.upperBound)}`);
  if (threshold.minImprovement !== null) rules.push(`better than baseline by ≥ ${number(threshold.minImprovement)}`);
  if (threshold.maxDegradation !== null) rules.push(`worse than baseline by ≤ ${number(threshold.maxDegradation)}`);
  return `${threshold.metric} ${rules.join(', ')}`;
}

export function policyWords(policy: PromotionPolicy): string {
  return `"${policy.name}" against ${policy.baselineAlias}: ${policy.thresholds.map(thresholdWords).join('; ') || 'no checks'}`;
}

const text = (value: unknown) => (typeof value === 'string' ? value : value === undefined || value === null ? '' : JSON.stringify(value));

/** One history event in words: what happened, plus detail lines (reason, evidence). */
export function describeHistoryEvent(event: HistoryEvent): { summary: string; details: string[] } {
  const data = event.data;
  switch (event.type) {
    case 'RegisteredModelCreated':
      return { summary: `model created${data.owner ? ` (owner ${text(data.owner)})` : ''}`, details: data.description ? [`description: ${text(data.description)}`] : [] };
    case 'ModelVersionRegistered': {
      const lineage = (data.lineage ?? {}) as Partial<ModelLineage>;
      const metrics = Object.entries((data.metrics ?? {}) as Record<string, number>)
        .slice(0, 6)
        .map(([key, value]) => `${key}=${number(value)}`)
        .join(' ');
      const from = lineage.trainingRunId ? ` from training run ${lineage.trainingRunId}` : '';
      return { summary: `version ${text(data.version)} registered${from}`, details: metrics ? [`metrics: ${metrics}`] : [] };
    }
    case 'ModelVersionAliasSet': {
      const previous = data.previousVersion === null || data.previousVersion === undefined ? 'new alias' : `was v${text(data.previousVersion)}`;
      const evidence = data.evidence as GateEvidence | null | undefined;
      const details = [data.reason ? `reason: ${text(data.reason)}` : 'reason: (none given)'];
      if (evidence) details.push(...evidenceLines(evidence, ''));
      else details.push('set directly, without the promotion gate');
      return { summary: `alias ${text(data.alias)} → v${text(data.version)} (${previous})`, details };
    }
    case 'ModelVersionAliasRemoved':
      return { summary: `alias ${text(data.alias)} removed from v${text(data.version)}`, details: data.reason ? [`reason: ${text(data.reason)}`] : [] };
    case 'ModelVersionArchived':
      return { summary: `version ${text(data.version)} archived`, details: data.reason ? [`reason: ${text(data.reason)}`] : [] };
    case 'PromotionPolicySet': {
      const policy = data.policy as PromotionPolicy | undefined;
      return { summary: 'promotion policy set', details: policy ? [policyWords(policy)] : [] };
    }
    case 'PromotionGateEvaluated': {
      const evidence = data.evidence as GateEvidence | undefined;
      return {
        summary: `gate evaluated: v${text(data.version)} for ${text(data.alias)} ${evidence ? (evidence.passed ? 'passed' : 'refused') : ''}`.trimEnd(),
        details: evidence ? evidenceLines(evidence, '') : [],
      };
    }
    default:
      return { summary: event.type, details: [JSON.stringify(data)] };
  }
}
