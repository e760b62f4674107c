// How sources, dataset versions and ingestion results look in REST answers (the same fields the
// gRPC messages carry, in JSON).
import type { IngestionResult, SourceView } from '../../application/ingestion-application';
import type { DatasetVersionView } from '../../domain/source/data-source';

export function presentSource(source: SourceView) {
  return {
    name: source.name,
    schemaVersion: source.schemaVersion,
    columns: source.definition.columns,
    eventTimeColumn: source.definition.eventTimeColumn,
    entityColumns: source.definition.entityColumns,
    policy: source.definition.policy,
    defaultUri: source.definition.defaultUri ?? null,
    stream: source.stream,
    latestVersionId: source.latestVersionId,
    versionCount: source.versionCount,
    createdAt: source.createdAt,
    updatedAt: source.updatedAt,
  };
}

export function presentVersion(version: DatasetVersionView) {
  return {
    source: version.source,
    versionId: version.versionId,
    status: version.status,
    sha256: version.artifact.sha256,
    rowCount: version.rowCount,
    schemaVersion: version.schemaVersion,
    columns: version.columns,
    eventTimeColumn: version.eventTimeColumn,
    entityColumns: version.entityColumns,
    createdAt: version.recordedAt,
    previousVersionId: version.previousVersionId,
    eventTimeRange: version.eventTimeRange,
    report: version.report,
    statistics: version.statistics,
    artifact: version.artifact,
    profile: version.profile,
    origin: version.origin,
    actor: version.actor,
  };
}

export function presentResult(result: IngestionResult) {
  return {
    source: result.source,
    versionId: result.versionId,
    status: result.status,
    rowCount: result.rowCount,
    report: result.report,
    ingestionId: result.ingestionId,
    version: presentVersion(result.version),
  };
}
