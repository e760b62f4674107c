// Between the gRPC messages of ingestion_service.proto (as @grpc/proto-loader gives them:
// camelCase fields, enums by name, 64-bit integers as strings, proto3 `optional` fields marked by
// a `_field` oneof) and the application's types.
import type { IngestionResult, SourceView } from '../../application/ingestion-application';
import type { DatasetVersionView, InputFormat } from '../../domain/source/data-source';
import type { ColumnInput, ColumnType, PolicyInput, Severity, SourceDefinition, SourceDefinitionInput } from '../../domain/source/source-definition';
import { ruleNames } from '../../domain/source/source-definition';
import type { ValidationReport } from '../../domain/validation/validate-dataset';

type Message = Record<string, unknown>;

/** A proto3 `optional` field's value, or undefined when unset. */
function optional<T>(message: Message | null | undefined, field: string): T | undefined {
  if (!message) return undefined;
  const marker = message[`_${field}`];
  if (marker !== undefined && marker !== null) return marker === field ? (message[field] as T) : undefined;
  // Loaders without the synthetic oneof: unset scalars arrive as undefined or null.
  const value = message[field];
  return value === undefined || value === null ? undefined : (value as T);
}

const columnTypeNames: Readonly<Record<string, ColumnType>> = {
  COLUMN_TYPE_INT64: 'int64',
  COLUMN_TYPE_FLOAT64: 'float64',
  COLUMN_TYPE_STRING: 'string',
  COLUMN_TYPE_BOOL: 'bool',
  COLUMN_TYPE_TIMESTAMP: 'timestamp',
  COLUMN_TYPE_DATE: 'date',
};
const columnTypeEnum = Object.fromEntries(Object.entries(columnTypeNames).map(([name, type]) => [type, name])) as Record<ColumnType, string>;

const severityNames: Readonly<Record<string, Severity | undefined>> = {
  RULE_SEVERITY_UNSPECIFIED: undefined,
  RULE_SEVERITY_OFF: 'off',
  RULE_SEVERITY_WARNING: 'warning',
  RULE_SEVERITY_ERROR: 'error',
};
const severityEnum: Readonly<Record<Severity, string>> = { off: 'RULE_SEVERITY_OFF', warning: 'RULE_SEVERITY_WARNING', error: 'RULE_SEVERITY_ERROR' };

/** Policy rule names in the proto (snake_case → camelCase by the loader) are the domain's. */
const ruleFields: readonly string[] = ruleNames;

export function definitionInputFrom(request: Message): SourceDefinitionInput {
  const columns = ((request.columns as Message[] | undefined) ?? []).map(
    (column): ColumnInput => ({
      name: String(column.name ?? ''),
      type: columnTypeNames[String(column.type)] ?? String(column.type),
      nullable: Boolean(column.nullable),
      min: optional<string>(column, 'min') ?? null,
      max: optional<string>(column, 'max') ?? null,
      categories: Array.isArray(column.categories) && column.categories.length > 0 ? (column.categories as string[]) : null,
      maxNullRate: optional<number>(column, 'maxNullRate') ?? null,
      driftThreshold: optional<number>(column, 'driftThreshold') ?? null,
    }),
  );
  const policy = request.policy as Message | null | undefined;
  const rules: Record<string, string> = {};
  for (const rule of ruleFields) {
    const severity = policy ? severityNames[String(policy[rule] ?? 'RULE_SEVERITY_UNSPECIFIED')] : undefined;
    if (severity) rules[rule] = severity;
  }
  const policyInput: PolicyInput = {
    rules,
    maxNullRate: optional<number>(policy, 'maxNullRate') ?? null,
    maxRowCountChange: optional<number>(policy, 'maxRowCountChange') ?? null,
    numericDrift: {
      method: policy?.numericDriftMethod === 'NUMERIC_DRIFT_METHOD_KS' ? 'ks' : 'psi',
      threshold: optional<number>(policy, 'numericDriftThreshold') ?? null,
    },
    categoricalDrift: {
      method: policy?.categoricalDriftMethod === 'CATEGORICAL_DRIFT_METHOD_JENSEN_SHANNON' ? 'js' : 'linf',
      threshold: optional<number>(policy, 'categoricalDriftThreshold') ?? null,
    },
  };
  const eventTimeColumn = String(request.eventTimeColumn ?? '');
  const defaultUri = String(request.defaultUri ?? '');
  return {
    columns,
    eventTimeColumn: eventTimeColumn === '' ? null : eventTimeColumn,
    entityColumns: (request.entityColumns as string[] | undefined) ?? [],
    policy: policyInput,
    ...(defaultUri !== '' ? { defaultUri } : {}),
  };
}

function policyMessage(definition: SourceDefinition) {
  const { policy } = definition;
  return {
    ...Object.fromEntries(ruleFields.map((rule) => [rule, severityEnum[policy.rules[rule as keyof typeof policy.rules]]])),
    maxNullRate: policy.maxNullRate,
    maxRowCountChange: policy.maxRowCountChange,
    numericDriftMethod: policy.numericDrift.method === 'ks' ? 'NUMERIC_DRIFT_METHOD_KS' : 'NUMERIC_DRIFT_METHOD_PSI',
    numericDriftThreshold: policy.numericDrift.threshold,
    categoricalDriftMethod: policy.categoricalDrift.method === 'js' ? 'CATEGORICAL_DRIFT_METHOD_JENSEN_SHANNON' : 'CATEGORICAL_DRIFT_METHOD_L_INFINITY',
    categoricalDriftThreshold: policy.categoricalDrift.threshold,
  };
}

export function sourceMessage(source: SourceView) {
  return {
    name: source.name,
    schemaVersion: source.schemaVersion,
    columns: source.definition.columns.map((column) => ({
      name: column.name,
      type: columnTypeEnum[column.type],
      nullable: column.nullable,
      ...(column.min !== null ? { min: String(column.min) } : {}),
      ...(column.max !== null ? { max: String(column.max) } : {}),
      categories: column.categories ?? [],
      ...(column.maxNullRate !== null ? { maxNullRate: column.maxNullRate } : {}),
      ...(column.driftThreshold !== null ? { driftThreshold: column.driftThreshold } : {}),
    })),
    eventTimeColumn: source.definition.eventTimeColumn ?? '',
    entityColumns: source.definition.entityColumns,
    policy: policyMessage(source.definition),
    latestVersionId: source.latestVersionId ?? '',
    versionCount: source.versionCount,
    updatedAt: timestampOf(source.updatedAt),
    defaultUri: source.definition.defaultUri ?? '',
  };
}

export function timestampOf(iso: string) {
  const millis = Date.parse(iso);
  return { seconds: String(Math.floor(millis / 1000)), nanos: (millis % 1000) * 1_000_000 };
}

export function summaryMessage(report: ValidationReport, reportUri: string) {
  return {
    checksEvaluated: report.checksEvaluated,
    errorCount: report.errorCount,
    warningCount: report.warningCount,
    anomalies: report.anomalies.slice(0, 100).map((anomaly) => ({
      kind: `ANOMALY_KIND_${anomaly.kind}`,
      severity: anomaly.severity === 'error' ? 'ANOMALY_SEVERITY_ERROR' : 'ANOMALY_SEVERITY_WARNING',
      column: anomaly.column ?? '',
      description: anomaly.description,
      expected: anomaly.expected,
      observed: anomaly.observed,
      affectedRowCount: String(anomaly.affectedRowCount),
    })),
    reportUri,
  };
}

export function versionMessage(version: DatasetVersionView) {
  return {
    sourceName: version.source,
    versionId: version.versionId,
    status: `INGESTION_STATUS_${version.status}`,
    rowCount: String(version.rowCount),
    schemaVersion: version.schemaVersion,
    columns: version.columns.map((column) => ({ name: column.name, type: columnTypeEnum[column.type], nullable: column.nullable })),
    eventTimeColumn: version.eventTimeColumn ?? '',
    entityColumns: version.entityColumns,
    artifactUri: version.artifact.uri,
    sizeBytes: String(version.artifact.sizeBytes),
    report: summaryMessage(version.report, version.profile.uri),
    statistics: version.statistics.map((statistics) => ({
      name: statistics.name,
      count: String(statistics.count),
      nullCount: String(statistics.nullCount),
      min: statistics.min === null ? '' : String(statistics.min),
      max: statistics.max === null ? '' : String(statistics.max),
      mean: statistics.mean ?? Number.NaN,
      distinctCount: String(statistics.distinctCount),
    })),
    eventTimeRange: version.eventTimeRange ? { start: timestampOf(version.eventTimeRange.start), end: timestampOf(version.eventTimeRange.end) } : null,
    previousVersionId: version.previousVersionId ?? '',
    createdAt: timestampOf(version.recordedAt),
  };
}

export function resultMessage(result: IngestionResult) {
  return {
    result: {
      sourceName: result.source,
      versionId: result.versionId,
      status: `INGESTION_STATUS_${result.status}`,
      rowCount: String(result.rowCount),
      report: summaryMessage(result.report, result.version.profile.uri),
      ingestionId: result.ingestionId,
    },
  };
}

const formatNames: Readonly<Record<string, InputFormat | undefined>> = {
  INPUT_FORMAT_CSV: 'csv',
  INPUT_FORMAT_JSON_LINES: 'jsonl',
  INPUT_FORMAT_PARQUET: 'parquet',
  INPUT_FORMAT_UNSPECIFIED: undefined,
};

export function formatFrom(value: unknown): InputFormat | undefined {
  return formatNames[String(value ?? 'INPUT_FORMAT_UNSPECIFIED')];
}
