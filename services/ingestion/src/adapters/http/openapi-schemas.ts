// OpenAPI schemas of the REST bodies, for @nestjs/swagger decorators (served at /openapi.json).
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { columnTypes, numericDriftMethods, categoricalDriftMethods, ruleNames, severities } from '../../domain/source/source-definition';
import { anomalyKinds } from '../../domain/validation/validate-dataset';

const iso: SchemaObject = { type: 'string', format: 'date-time' };
const sha256: SchemaObject = { type: 'string', pattern: '^[0-9a-f]{64}$' };
const blob: SchemaObject = { type: 'object', properties: { sha256, sizeBytes: { type: 'integer' }, uri: { type: 'string' } } };

export const errorSchema: SchemaObject = {
  type: 'object',
  required: ['error', 'code'],
  properties: {
    error: { type: 'string', description: 'What went wrong, naming the column, row or field.' },
    code: { type: 'string', enum: ['VALIDATION', 'NOT_FOUND', 'ILLEGAL_STATE', 'CONCURRENCY', 'UNAVAILABLE', 'DATA_LOSS', 'INTERNAL', 'HTTP'] },
    details: { type: 'object', description: 'Structured facts: field, column, row, format, missingColumns…' },
  },
};

const columnSchema: SchemaObject = {
  type: 'object',
  required: ['name', 'type'],
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]{0,127}$' },
    type: { type: 'string', enum: [...columnTypes] },
    nullable: { type: 'boolean', default: true },
    min: { oneOf: [{ type: 'number' }, { type: 'string' }], nullable: true, description: 'number, or ISO-8601 for timestamp/date' },
    max: { oneOf: [{ type: 'number' }, { type: 'string' }], nullable: true },
    categories: { type: 'array', items: { type: 'string' }, nullable: true, description: 'allowed values of a string column' },
    maxNullRate: { type: 'number', minimum: 0, maximum: 1, nullable: true },
    driftThreshold: { type: 'number', minimum: 0, nullable: true },
  },
};

const severitySchema: SchemaObject = { type: 'string', enum: [...severities] };

export const policySchema: SchemaObject = {
  type: 'object',
  properties: {
    rules: {
      type: 'object',
      description: `severity per rule (${ruleNames.join(', ')}); defaults: typeMismatch, nulls, range, emptyDataset = error; the others = warning`,
      properties: Object.fromEntries(ruleNames.map((rule) => [rule, severitySchema])),
    },
    maxNullRate: { type: 'number', minimum: 0, maximum: 1, default: 1 },
    maxRowCountChange: { type: 'number', minimum: 0, default: 0.5 },
    numericDrift: { type: 'object', properties: { method: { type: 'string', enum: [...numericDriftMethods] }, threshold: { type: 'number' } } },
    categoricalDrift: { type: 'object', properties: { method: { type: 'string', enum: [...categoricalDriftMethods] }, threshold: { type: 'number' } } },
  },
};

export const sourceBodySchema: SchemaObject = {
  type: 'object',
  required: ['columns'],
  properties: {
    columns: { type: 'array', minItems: 1, items: columnSchema },
    eventTimeColumn: { type: 'string', nullable: true, description: 'a timestamp or date column' },
    entityColumns: { type: 'array', items: { type: 'string' } },
    policy: policySchema,
    defaultUri: { type: 'string', nullable: true, description: 'where an `ingest` pipeline step without `uri` imports from: an absolute path inside an import folder, or s3://bucket/key' },
  },
};

export const streamBodySchema: SchemaObject = {
  type: 'object',
  required: ['topic'],
  properties: {
    topic: { type: 'string', description: 'Kafka topic of rows: one JSON object per message' },
    maxRows: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 10_000, description: 'a batch becomes a dataset version at this many rows…' },
    maxInterval: { type: 'string', default: '1m', example: '30s', description: '…or this long after its first row, whichever comes first (ms, s, m, h; 1s to 24h)' },
  },
};

export const streamSchema: SchemaObject = {
  type: 'object',
  properties: {
    source: { type: 'string' },
    topic: { type: 'string' },
    maxRows: { type: 'integer' },
    maxIntervalMs: { type: 'integer' },
    configuredAt: iso,
    status: {
      type: 'object',
      description: 'this process only',
      properties: {
        state: { type: 'string', enum: ['starting', 'consuming', 'retrying', 'stopped'] },
        pendingRows: { type: 'integer' },
        batches: { type: 'integer' },
        rows: { type: 'integer' },
        skippedMessages: { type: 'integer', description: 'messages that are not JSON objects (sent to <topic>.dlq)' },
        lastVersionId: { type: 'string', nullable: true },
        lastBatchAt: { ...iso, nullable: true },
        lastError: { type: 'string', nullable: true },
      },
    },
  },
};

export const sourceSchema: SchemaObject = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    schemaVersion: { type: 'integer', minimum: 1 },
    columns: { type: 'array', items: columnSchema },
    eventTimeColumn: { type: 'string', nullable: true },
    entityColumns: { type: 'array', items: { type: 'string' } },
    policy: policySchema,
    defaultUri: { type: 'string', nullable: true },
    stream: { type: 'object', nullable: true, description: 'the Kafka topic feeding the source: {topic, maxRows, maxIntervalMs, configuredAt}' },
    latestVersionId: { ...sha256, nullable: true },
    versionCount: { type: 'integer' },
    createdAt: iso,
    updatedAt: iso,
    changed: { type: 'boolean', description: 'PUT only: whether the call made a new schema version' },
  },
};

const anomalySchema: SchemaObject = {
  type: 'object',
  properties: {
    kind: { type: 'string', enum: [...anomalyKinds] },
    rule: { type: 'string', enum: [...ruleNames] },
    severity: { type: 'string', enum: ['error', 'warning'] },
    column: { type: 'string', nullable: true },
    description: { type: 'string' },
    expected: { type: 'string' },
    observed: { type: 'string' },
    affectedRowCount: { type: 'integer' },
    firstRow: { type: 'integer', nullable: true, description: '1-based data row of the input (the CSV header is not a row)' },
    sample: { type: 'string', nullable: true },
  },
};

export const reportSchema: SchemaObject = {
  type: 'object',
  properties: {
    checksEvaluated: { type: 'integer' },
    errorCount: { type: 'integer' },
    warningCount: { type: 'integer' },
    anomalies: { type: 'array', items: anomalySchema },
    comparedWithVersionId: { ...sha256, nullable: true },
  },
};

export const versionSchema: SchemaObject = {
  type: 'object',
  properties: {
    source: { type: 'string' },
    versionId: sha256,
    status: { type: 'string', enum: ['CREATED', 'REJECTED'] },
    sha256,
    rowCount: { type: 'integer' },
    schemaVersion: { type: 'integer' },
    columns: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, type: { type: 'string', enum: [...columnTypes] }, nullable: { type: 'boolean' } } } },
    eventTimeColumn: { type: 'string', nullable: true },
    entityColumns: { type: 'array', items: { type: 'string' } },
    createdAt: iso,
    previousVersionId: { ...sha256, nullable: true },
    eventTimeRange: { type: 'object', nullable: true, properties: { start: iso, end: iso } },
    report: reportSchema,
    statistics: { type: 'array', items: { type: 'object' } },
    artifact: blob,
    profile: blob,
    origin: { type: 'object' },
  },
};

export const versionListSchema: SchemaObject = { type: 'object', properties: { versions: { type: 'array', items: versionSchema } } };

export const resultSchema: SchemaObject = {
  type: 'object',
  properties: {
    source: { type: 'string' },
    versionId: sha256,
    status: { type: 'string', enum: ['CREATED', 'REJECTED', 'UNCHANGED'] },
    rowCount: { type: 'integer' },
    report: reportSchema,
    ingestionId: { type: 'string' },
    version: versionSchema,
  },
};

export const importBodySchema: SchemaObject = {
  type: 'object',
  properties: {
    path: { type: 'string', description: 'absolute path inside an import folder (LOOPLINE_INGESTION_IMPORT_ROOTS)' },
    uri: { type: 'string', description: 's3://bucket/key of an allowed bucket (LOOPLINE_INGESTION_IMPORT_S3_BUCKETS)' },
    format: { type: 'string', enum: ['csv', 'jsonl', 'parquet'], description: "default: the file name's extension" },
  },
};

export const progressSchema: SchemaObject = {
  type: 'object',
  properties: {
    ingestionId: { type: 'string' },
    source: { type: 'string' },
    phase: { type: 'string', enum: ['queued', 'receiving', 'parsing', 'profiling', 'writing', 'storing', 'recording', 'done', 'failed'] },
    bytesReceived: { type: 'integer' },
    rowCount: { type: 'integer', nullable: true },
    startedAt: iso,
    updatedAt: iso,
    finishedAt: { ...iso, nullable: true },
    elapsedMs: { type: 'integer' },
    outcome: { type: 'object', nullable: true },
  },
};
