// The ingestion service's events as Kafka messages: DatasetVersionCreated and
// DatasetVersionRejected become their contract messages (proto/loopline/ingestion/v1/
// dataset_versions.proto) in CloudEvents on `loopline.ingestion.dataset-versions.v1`, keyed by
// source name, with the event id as CloudEvents id so consumers deduplicate relay retries.
// SourceDeclared and the stream settings have no contract: they stay in the event store.
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  AnomalyKind,
  AnomalySeverity,
  ColumnType,
  DatasetFormat,
  DatasetVersionCreatedSchema,
  DatasetVersionRejectedSchema,
  encodeEvent,
  type ValidationSummarySchema,
} from '@loopline/contracts';
import type { NewEvent, OutboxMessage } from '@loopline/eventsourcing';
import type { DataSourceEvent, DatasetVersionRecord } from '../../domain/source/data-source';
import type { ColumnType as DomainColumnType } from '../../domain/source/source-definition';
import type { AnomalyKind as DomainAnomalyKind, ValidationReport } from '../../domain/validation/validate-dataset';

export const datasetVersionsTopic = 'loopline.ingestion.dataset-versions.v1';
export const ingestionSource = '/loopline/ingestion';
/** The contract lists at most this many anomalies; the counts stay exact. */
const maxAnomalies = 100;

export const columnTypeOf: Readonly<Record<DomainColumnType, ColumnType>> = {
  int64: ColumnType.INT64,
  float64: ColumnType.FLOAT64,
  string: ColumnType.STRING,
  bool: ColumnType.BOOL,
  timestamp: ColumnType.TIMESTAMP,
  date: ColumnType.DATE,
};

const anomalyKindOf: Readonly<Record<DomainAnomalyKind, AnomalyKind>> = {
  EMPTY: AnomalyKind.EMPTY,
  UNEXPECTED_COLUMN: AnomalyKind.UNEXPECTED_COLUMN,
  TYPE_MISMATCH: AnomalyKind.TYPE_MISMATCH,
  TOO_MANY_NULLS: AnomalyKind.TOO_MANY_NULLS,
  OUT_OF_RANGE: AnomalyKind.OUT_OF_RANGE,
  UNKNOWN_CATEGORY: AnomalyKind.UNKNOWN_CATEGORY,
  ROW_COUNT_CHANGE: AnomalyKind.ROW_COUNT_CHANGE,
  DISTRIBUTION_SHIFT: AnomalyKind.DISTRIBUTION_SHIFT,
};

export function validationSummary(report: ValidationReport, reportUri: string): MessageInitShape<typeof ValidationSummarySchema> {
  return {
    checksEvaluated: report.checksEvaluated,
    errorCount: report.errorCount,
    warningCount: report.warningCount,
    anomalies: report.anomalies.slice(0, maxAnomalies).map((anomaly) => ({
      kind: anomalyKindOf[anomaly.kind],
      severity: anomaly.severity === 'error' ? AnomalySeverity.ERROR : AnomalySeverity.WARNING,
      column: anomaly.column ?? '',
      description: anomaly.description,
      expected: anomaly.expected,
      observed: anomaly.observed,
      affectedRowCount: BigInt(anomaly.affectedRowCount),
    })),
    reportUri,
  };
}

function eventTimeRange(record: DatasetVersionRecord) {
  return record.eventTimeRange
    ? { start: timestampFromDate(new Date(record.eventTimeRange.start)), end: timestampFromDate(new Date(record.eventTimeRange.end)) }
    : undefined;
}

/** The outbox messages publishing the appended dataset-version events. */
export function outboxMessages(events: readonly NewEvent<DataSourceEvent>[]): OutboxMessage[] {
  const messages: OutboxMessage[] = [];
  for (const event of events) {
    if (event.type === 'SourceDeclared' || event.type === 'SourceStreamConfigured' || event.type === 'SourceStreamStopped') continue;
    const record = event.data;
    const message =
      event.type === 'DatasetVersionCreated'
        ? create(DatasetVersionCreatedSchema, {
            sourceName: record.source,
            datasetVersionId: record.versionId,
            previousDatasetVersionId: record.previousVersionId ?? '',
            schemaVersion: record.schemaVersion,
            rowCount: BigInt(record.rowCount),
            sizeBytes: BigInt(record.artifact.sizeBytes),
            format: DatasetFormat.PARQUET,
            artifactUri: record.artifact.uri,
            eventTimeRange: eventTimeRange(record),
            validation: validationSummary(record.report, record.profile.uri),
            createdAt: timestampFromDate(new Date(record.recordedAt)),
            columns: record.columns.map((column) => ({ name: column.name, type: columnTypeOf[column.type], nullable: column.nullable })),
            eventTimeColumn: record.eventTimeColumn ?? '',
            entityColumns: [...record.entityColumns],
          })
        : create(DatasetVersionRejectedSchema, {
            sourceName: record.source,
            datasetVersionId: record.versionId,
            previousDatasetVersionId: record.previousVersionId ?? '',
            schemaVersion: record.schemaVersion,
            rowCount: BigInt(record.rowCount),
            artifactUri: record.artifact.uri,
            validation: validationSummary(record.report, record.profile.uri),
            rejectedAt: timestampFromDate(new Date(record.recordedAt)),
          });
    const encoded = encodeEvent({
      topic: datasetVersionsTopic,
      key: record.source,
      id: event.eventId,
      source: ingestionSource,
      time: new Date(event.metadata.time),
      subject: `${record.source}/${record.versionId}`,
      message,
      extensions: event.metadata.traceparent ? { traceparent: event.metadata.traceparent } : undefined,
    });
    messages.push({ topic: datasetVersionsTopic, key: encoded.key, value: encoded.value, headers: encoded.headers, eventId: event.eventId });
  }
  return messages;
}
