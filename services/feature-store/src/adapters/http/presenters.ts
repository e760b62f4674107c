// JSON shapes of the REST API.
import type { AppliedFeatureView, Catalog } from '../../domain/definitions/catalog';
import { latest } from '../../domain/definitions/catalog';
import { formatDuration } from '../../domain/definitions/duration';
import type { Plan } from '../../domain/definitions/plan';
import type { MaterializationRecord, TrainingSetRecord } from '../../application/ports';
import { lineageOf } from '../../application/training-sets';

export function planJson(plan: Plan, applied: boolean) {
  return {
    applied,
    changes: plan.changes.map((change) => ({
      kind: change.kind,
      name: change.name,
      action: change.action,
      fromVersion: change.fromVersion,
      toVersion: change.toVersion,
      differences: change.differences,
      ...(change.kind === 'feature_service' ? { features: change.resolved.map((feature) => `${feature.view}@v${feature.version}:${feature.feature}`) } : {}),
    })),
  };
}

export function viewJson(view: AppliedFeatureView) {
  const definition = view.definition;
  return {
    name: view.name,
    version: view.version,
    hash: view.hash,
    appliedAt: view.appliedAt,
    actor: view.actor,
    source: definition.source,
    entities: definition.entities,
    timestampColumn: definition.timestampColumn,
    ttl: definition.ttlSeconds === null ? null : formatDuration(definition.ttlSeconds),
    online: definition.online,
    description: definition.description,
    features: definition.features.map((feature) => ({
      name: feature.name,
      type: feature.type,
      expression: feature.expression,
      ...(feature.aggregation ? { aggregate: feature.aggregation.function, window: formatDuration(feature.aggregation.windowSeconds) } : {}),
      description: feature.description,
    })),
  };
}

export function catalogJson(catalog: Catalog) {
  return {
    entities: [...catalog.entities.values()].map((versions) => {
      const entity = latest(versions)!;
      return { name: entity.name, version: entity.version, joinKeys: entity.definition.joinKeys, description: entity.definition.description };
    }),
    featureViews: [...catalog.featureViews.values()].map((versions) => ({ ...viewJson(latest(versions)!), versions: versions.map((view) => view.version) })),
    featureServices: [...catalog.featureServices.values()].map((versions) => {
      const service = latest(versions)!;
      return { name: service.name, version: service.version, description: service.definition.description, features: service.resolved.map((feature) => `${feature.view}@v${feature.version}:${feature.feature}`) };
    }),
  };
}

export function materializationJson(record: MaterializationRecord) {
  return {
    ...record,
    eventTimeRange: record.eventTimeRange ? { start: new Date(record.eventTimeRange.startMs).toISOString(), end: new Date(record.eventTimeRange.endMs).toISOString() } : null,
  };
}

export function trainingSetJson(record: TrainingSetRecord) {
  return { id: record.id, rowCount: record.rowCount, recipe: record.recipe, lineage: lineageOf(record.recipe), artifact: record.artifact, createdAt: record.createdAt };
}
