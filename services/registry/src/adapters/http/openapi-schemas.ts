// OpenAPI schemas of the REST bodies, for @nestjs/swagger decorators (served at /openapi.json).
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';

const stringMap: SchemaObject = { type: 'object', additionalProperties: { type: 'string' } };
const versionMap: SchemaObject = { type: 'object', additionalProperties: { type: 'integer', minimum: 1 }, description: 'alias → version' };
const iso: SchemaObject = { type: 'string', format: 'date-time' };

export const errorSchema: SchemaObject = {
  type: 'object',
  required: ['error', 'code'],
  properties: {
    error: { type: 'string', description: 'What went wrong, for people.' },
    code: { type: 'string', enum: ['VALIDATION', 'NOT_FOUND', 'ILLEGAL_STATE', 'CONCURRENCY', 'UNAVAILABLE', 'DATA_LOSS', 'INTERNAL', 'HTTP'] },
    details: { type: 'object', description: 'Structured facts: the field at fault, or the gate evidence of a refused promotion.' },
  },
};

const thresholdSchema: SchemaObject = {
  type: 'object',
  required: ['metric', 'direction'],
  properties: {
    metric: { type: 'string', example: 'auc' },
    direction: { type: 'string', enum: ['HIGHER_IS_BETTER', 'LOWER_IS_BETTER'] },
    lowerBound: { type: 'number', nullable: true, description: 'candidate >= lowerBound' },
    upperBound: { type: 'number', nullable: true, description: 'candidate <= upperBound' },
    minImprovement: { type: 'number', nullable: true, minimum: 0, description: 'better than the baseline by at least this (absolute)' },
    maxDegradation: { type: 'number', nullable: true, minimum: 0, description: 'worse than the baseline by at most this (absolute)' },
  },
};

export const policySchema: SchemaObject = {
  type: 'object',
  required: ['thresholds'],
  properties: {
    name: { type: 'string', default: 'default', example: 'champion-gate' },
    baselineAlias: { type: 'string', default: 'champion', description: 'whose holder change thresholds compare against' },
    thresholds: { type: 'array', minItems: 1, items: thresholdSchema },
    actor: { type: 'string', description: 'defaults to the x-loopline-actor header' },
  },
};

export const evidenceSchema: SchemaObject = {
  type: 'object',
  properties: {
    policyName: { type: 'string' },
    passed: { type: 'boolean' },
    candidateVersion: { type: 'integer' },
    baselineAlias: { type: 'string' },
    baselineVersion: { type: 'integer', nullable: true, description: 'null: no baseline, change thresholds skipped' },
    checks: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          metric: { type: 'string' },
          kind: { type: 'string', enum: ['LOWER_BOUND', 'UPPER_BOUND', 'MIN_IMPROVEMENT', 'MAX_DEGRADATION'] },
          comparator: { type: 'string', enum: ['AT_LEAST', 'AT_MOST'] },
          candidateValue: { type: 'number', nullable: true },
          baselineValue: { type: 'number', nullable: true },
          threshold: { type: 'number', nullable: true },
          passed: { type: 'boolean' },
          description: { type: 'string', example: 'auc >= champion.auc + 0.01' },
        },
      },
    },
  },
};

export const modelSchema: SchemaObject = {
  type: 'object',
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,127}$' },
    description: { type: 'string' },
    owner: { type: 'string' },
    tags: stringMap,
    latestVersion: { type: 'integer', description: '0 when no version is registered' },
    aliases: versionMap,
    createdAt: iso,
    createdBy: { type: 'string' },
    promotionPolicy: { ...policySchema, nullable: true },
  },
};

export const modelListSchema: SchemaObject = { type: 'object', properties: { models: { type: 'array', items: modelSchema } } };

export const createModelSchema: SchemaObject = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,127}$', example: 'flight-delay' },
    description: { type: 'string' },
    owner: { type: 'string', description: 'defaults to the actor' },
    tags: stringMap,
    actor: { type: 'string' },
  },
};

const tensorSchema: SchemaObject = {
  type: 'object',
  properties: { name: { type: 'string' }, datatype: { type: 'string', example: 'FP32' }, shape: { type: 'array', items: { type: 'integer' }, example: [-1, 3] } },
};
const blobSchema: SchemaObject = {
  type: 'object',
  properties: { sha256: { type: 'string' }, sizeBytes: { type: 'integer' }, uri: { type: 'string' } },
};
const lineageSchema: SchemaObject = {
  type: 'object',
  properties: {
    trainingRunId: { type: 'string' },
    pipelineRunId: { type: 'string' },
    experimentName: { type: 'string' },
    trainingSetId: { type: 'string' },
    datasetVersionIds: { type: 'array', items: { type: 'string' } },
    featureViews: { type: 'array', items: { type: 'object', properties: { viewName: { type: 'string' }, viewVersion: { type: 'integer' } } } },
    trainerName: { type: 'string' },
    trainerVersion: { type: 'string' },
    codeCommit: { type: 'string' },
  },
};

export const versionSchema: SchemaObject = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    version: { type: 'integer' },
    status: { type: 'string', enum: ['READY', 'ARCHIVED'] },
    description: { type: 'string' },
    artifact: blobSchema,
    signature: { type: 'object', properties: { inputs: { type: 'array', items: tensorSchema }, outputs: { type: 'array', items: tensorSchema } } },
    metrics: { type: 'object', additionalProperties: { type: 'number' } },
    params: stringMap,
    tags: stringMap,
    lineage: lineageSchema,
    referenceProfile: { ...blobSchema, nullable: true },
    aliases: { type: 'array', items: { type: 'string' } },
    registeredAt: iso,
    registeredBy: { type: 'string' },
  },
};

export const versionListSchema: SchemaObject = { type: 'object', properties: { versions: { type: 'array', items: versionSchema } } };

export const uploadSchema: SchemaObject = {
  type: 'object',
  required: ['artifact'],
  properties: {
    artifact: { type: 'string', format: 'binary', description: 'the .onnx file (no external data)' },
    metadata: {
      type: 'string',
      description:
        'JSON: { description?, metrics?: {name: number}, params?: {name: string}, tags?, lineage?: {trainingRunId, pipelineRunId, experimentName, trainingSetId, datasetVersionIds[], featureViews[{viewName, viewVersion}], trainerName, trainerVersion, codeCommit}, referenceProfile?: {rowCount, features: {name: {kind: "numeric"|"categorical", count, …}}}, requestId? }',
    },
  },
};

export const aliasBodySchema: SchemaObject = {
  type: 'object',
  required: ['version'],
  properties: { version: { type: 'integer', minimum: 1 }, actor: { type: 'string' }, reason: { type: 'string' } },
};
export const changeBodySchema: SchemaObject = { type: 'object', properties: { actor: { type: 'string' }, reason: { type: 'string' } } };
export const promoteBodySchema: SchemaObject = {
  type: 'object',
  properties: { alias: { type: 'string', default: 'champion' }, actor: { type: 'string' }, reason: { type: 'string' } },
};
export const evaluateBodySchema: SchemaObject = { type: 'object', properties: { alias: { type: 'string', default: 'champion' } } };
export const aliasMoveSchema: SchemaObject = {
  type: 'object',
  properties: { name: { type: 'string' }, alias: { type: 'string' }, version: { type: 'integer' }, previousVersion: { type: 'integer', nullable: true } },
};
export const aliasResolutionSchema: SchemaObject = { type: 'object', properties: { alias: { type: 'string' }, version: { type: 'integer' } } };
export const promotionSchema: SchemaObject = {
  type: 'object',
  properties: { ...aliasMoveSchema.properties, promoted: { type: 'boolean' }, evidence: evidenceSchema },
};
export const historySchema: SchemaObject = {
  type: 'object',
  properties: {
    events: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          position: { type: 'integer' },
          eventId: { type: 'string', format: 'uuid' },
          type: { type: 'string', example: 'ModelVersionAliasSet' },
          time: iso,
          actor: { type: 'string' },
          data: { type: 'object' },
        },
      },
    },
  },
};
