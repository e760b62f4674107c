// The registry's events as Kafka messages: each domain event becomes its contract message
// (proto/loopline/registry/v1/model_versions.proto) in a CloudEvent on
// `loopline.registry.model-versions.v1`, keyed by model name, with the event id as CloudEvents
// id so consumers deduplicate relay retries. Written to the outbox with the events.
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  encodeDynamicEvent,
  findEventType,
  GateCheckSchema,
  GateComparator,
  GateEvidenceSchema,
  GateMetricDirection,
  ModelFormat,
  ModelLineageSchema,
  ModelSignatureSchema,
  ModelVersionAliasRemovedSchema,
  ModelVersionAliasSetSchema,
  ModelVersionArchivedSchema,
  ModelVersionRegisteredSchema,
  PromotionGateEvaluatedSchema,
  PromotionPolicySchema,
  PromotionPolicySetSchema,
  RegisteredModelCreatedSchema,
  type LooplineEvent,
} from '@loopline/contracts';
import type { NewEvent, OutboxMessage } from '@loopline/eventsourcing';
import type { Message } from '@bufbuild/protobuf';
import type { GateEvidence, ModelLineage, ModelSignature, PromotionPolicy, RegisteredModelEvent } from '../../domain/registered-model/registered-model';

export const modelVersionsTopic = 'loopline.registry.model-versions.v1';
export const registrySource = '/loopline/registry';

/** The contract message of a domain event. */
export function contractMessage(event: RegisteredModelEvent): Message {
  switch (event.type) {
    case 'RegisteredModelCreated': {
      const { data } = event;
      return create(RegisteredModelCreatedSchema, {
        modelName: data.modelName,
        description: data.description,
        owner: data.owner,
        tags: { ...data.tags },
        actor: data.actor,
        createdAt: timestamp(data.createdAt),
      });
    }
    case 'ModelVersionRegistered': {
      const { data } = event;
      return create(ModelVersionRegisteredSchema, {
        modelName: data.modelName,
        modelVersion: data.version,
        artifact: { uri: data.artifact.uri, sha256: data.artifact.sha256, sizeBytes: BigInt(data.artifact.sizeBytes), format: ModelFormat.ONNX },
        signature: signatureMessage(data.signature),
        metrics: { ...data.metrics },
        lineage: lineageMessage(data.lineage, data.params),
        referenceProfileUri: data.referenceProfile?.uri ?? '',
        referenceProfileSha256: data.referenceProfile?.sha256 ?? '',
        description: data.description,
        tags: { ...data.tags },
        actor: data.actor,
        registeredAt: timestamp(data.registeredAt),
      });
    }
    case 'ModelVersionAliasSet': {
      const { data } = event;
      return create(ModelVersionAliasSetSchema, {
        modelName: data.modelName,
        alias: data.alias,
        modelVersion: data.version,
        previousModelVersion: data.previousVersion ?? 0,
        actor: data.actor,
        reason: data.reason,
        gateEvidence: data.evidence === null ? undefined : evidenceMessage(data.evidence),
        setAt: timestamp(data.setAt),
      });
    }
    case 'ModelVersionAliasRemoved': {
      const { data } = event;
      return create(ModelVersionAliasRemovedSchema, {
        modelName: data.modelName,
        alias: data.alias,
        modelVersion: data.version,
        actor: data.actor,
        reason: data.reason,
        removedAt: timestamp(data.removedAt),
      });
    }
    case 'ModelVersionArchived': {
      const { data } = event;
      return create(ModelVersionArchivedSchema, {
        modelName: data.modelName,
        modelVersion: data.version,
        actor: data.actor,
        reason: data.reason,
        archivedAt: timestamp(data.archivedAt),
      });
    }
    case 'PromotionPolicySet': {
      const { data } = event;
      return create(PromotionPolicySetSchema, { modelName: data.modelName, policy: policyMessage(data.policy), actor: data.actor, setAt: timestamp(data.setAt) });
    }
    case 'PromotionGateEvaluated': {
      const { data } = event;
      return create(PromotionGateEvaluatedSchema, {
        modelName: data.modelName,
        modelVersion: data.version,
        alias: data.alias,
        evidence: evidenceMessage(data.evidence),
        actor: data.actor,
        evaluatedAt: timestamp(data.evaluatedAt),
      });
    }
    default: {
      const unreachable: never = event;
      throw new Error(`unknown event ${JSON.stringify(unreachable)}`);
    }
  }
}

/**
 * Whether the topic registry (`@loopline/contracts` topics.ts) lists this contract message on
 * the registry's topic. A type it does not list cannot be encoded, so it stays in the event store
 * (and the history) only; see docs/adr/0003 for the two types awaiting registration.
 */
export function isPublished(message: Message): boolean {
  return findEventType(message.$typeName)?.topic.name === modelVersionsTopic;
}

/** The outbox messages that publish appended events, one per published event. */
export function outboxMessages(events: readonly NewEvent<RegisteredModelEvent>[]): OutboxMessage[] {
  const messages: OutboxMessage[] = [];
  for (const event of events) {
    const message = contractMessage(event);
    if (!isPublished(message)) continue;
    const encoded = encodeDynamicEvent({
      topic: modelVersionsTopic,
      key: event.data.modelName,
      id: event.eventId,
      source: registrySource,
      time: new Date(event.metadata.time),
      subject: subjectOf(event),
      message: message as LooplineEvent,
      extensions: event.metadata.traceparent ? { traceparent: event.metadata.traceparent } : undefined,
    });
    messages.push({ topic: modelVersionsTopic, key: encoded.key, value: encoded.value, headers: encoded.headers, eventId: event.eventId });
  }
  return messages;
}

/** `name` or `name/version`: what the event is about. */
function subjectOf(event: RegisteredModelEvent): string {
  switch (event.type) {
    case 'ModelVersionRegistered':
    case 'ModelVersionAliasSet':
    case 'ModelVersionAliasRemoved':
    case 'ModelVersionArchived':
    case 'PromotionGateEvaluated':
      return `${event.data.modelName}/${event.data.version}`;
    case 'RegisteredModelCreated':
    case 'PromotionPolicySet':
      return event.data.modelName;
    default: {
      const unreachable: never = event;
      throw new Error(`unknown event ${JSON.stringify(unreachable)}`);
    }
  }
}

function timestamp(iso: string) {
  return timestampFromDate(new Date(iso));
}

export function signatureMessage(signature: ModelSignature): MessageInitShape<typeof ModelSignatureSchema> {
  const spec = (tensor: ModelSignature['inputs'][number]) => ({ name: tensor.name, datatype: tensor.datatype, shape: tensor.shape.map((dimension) => BigInt(dimension)) });
  return { inputs: signature.inputs.map(spec), outputs: signature.outputs.map(spec) };
}

export function lineageMessage(lineage: ModelLineage, params: Readonly<Record<string, string>>): MessageInitShape<typeof ModelLineageSchema> {
  return {
    trainingRunId: lineage.trainingRunId,
    pipelineRunId: lineage.pipelineRunId,
    experimentName: lineage.experimentName,
    trainingSetId: lineage.trainingSetId,
    datasetVersionIds: [...lineage.datasetVersionIds],
    featureViews: lineage.featureViews.map((view) => ({ viewName: view.viewName, viewVersion: view.viewVersion })),
    trainerName: lineage.trainerName,
    trainerVersion: lineage.trainerVersion,
    params: { ...params },
    codeCommit: lineage.codeCommit,
  };
}

export function evidenceMessage(evidence: GateEvidence): MessageInitShape<typeof GateEvidenceSchema> {
  return {
    policyName: evidence.policyName,
    passed: evidence.passed,
    candidateModelVersion: evidence.candidateVersion,
    baselineModelVersion: evidence.baselineVersion ?? 0,
    baselineAlias: evidence.baselineAlias,
    checks: evidence.checks.map(
      (check): MessageInitShape<typeof GateCheckSchema> => ({
        metricName: check.metric,
        candidateValue: check.candidateValue ?? Number.NaN,
        baselineValue: check.baselineValue ?? undefined,
        threshold: check.threshold ?? Number.NaN,
        comparator: check.comparator === 'AT_LEAST' ? GateComparator.AT_LEAST : GateComparator.AT_MOST,
        passed: check.passed,
        description: check.description,
      }),
    ),
  };
}

export function policyMessage(policy: PromotionPolicy): MessageInitShape<typeof PromotionPolicySchema> {
  return {
    name: policy.name,
    baselineAlias: policy.baselineAlias,
    thresholds: policy.thresholds.map((threshold) => ({
      metricName: threshold.metric,
      direction: threshold.direction === 'HIGHER_IS_BETTER' ? GateMetricDirection.HIGHER_IS_BETTER : GateMetricDirection.LOWER_IS_BETTER,
      lowerBound: threshold.lowerBound ?? undefined,
      upperBound: threshold.upperBound ?? undefined,
      minImprovement: threshold.minImprovement ?? undefined,
      maxDegradation: threshold.maxDegradation ?? undefined,
    })),
  };
}

