// The JSON the REST API answers with. Shapes are part of the public contract (the serving
// engineer and the CLI code against them): extend, never rename.
import type { RecordedEvent } from '@loopline/eventsourcing';
import type { ModelVersionView } from '../../application/registry-application';
import { eventTime, type RegisteredModel, type RegisteredModelEvent } from '../../domain/registered-model/registered-model';
import type { ModelSummary } from '../../projections/model-summaries.projection';

export function presentModel(model: RegisteredModel) {
  return {
    name: model.name,
    description: model.description,
    owner: model.owner,
    tags: model.tags,
    latestVersion: model.versions.length,
    aliases: model.aliases,
    createdAt: model.createdAt,
    createdBy: model.createdBy,
    promotionPolicy: model.policy,
  };
}

export function presentSummary(summary: ModelSummary) {
  return {
    name: summary.name,
    description: summary.description,
    owner: summary.owner,
    tags: summary.tags,
    latestVersion: summary.latestVersion,
    aliases: summary.aliases,
    createdAt: summary.createdAt,
  };
}

export function presentVersion(version: ModelVersionView) {
  return {
    name: version.name,
    version: version.version,
    status: version.status,
    description: version.description,
    artifact: { sha256: version.artifact.sha256, sizeBytes: version.artifact.sizeBytes, uri: version.artifact.uri },
    signature: version.signature,
    metrics: version.metrics,
    params: version.params,
    tags: version.tags,
    lineage: version.lineage,
    referenceProfile: version.referenceProfile,
    aliases: version.aliases,
    registeredAt: version.registeredAt,
    registeredBy: version.registeredBy,
  };
}

export function presentHistoryEvent(event: RecordedEvent<RegisteredModelEvent>) {
  return {
    position: event.streamPosition,
    eventId: event.eventId,
    type: event.type,
    time: eventTime(event),
    actor: event.metadata.actor,
    data: event.data,
  };
}
