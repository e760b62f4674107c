// JSON schemas of the REST API for the OpenAPI document (request bodies are parsed by zod in
// request-schemas.ts; these describe them for people and clients).
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
const stringMap: SchemaObject = { type: 'object', additionalProperties: { type: 'string' } };

export const errorSchema: SchemaObject = {
  type: 'object',
  properties: { error: { type: 'string' }, code: { type: 'string' }, details: { type: 'object' } },
};

const split: SchemaObject = {
  type: 'object',
  description: 'random (seeded by `seed`) or time (latest rows held out; default when the training set has an event-time column)',
  properties: { kind: { type: 'string', enum: ['random', 'time'] }, holdoutFraction: { type: 'number' }, timeColumn: { type: 'string' }, cutoff: { oneOf: [{ type: 'string' }, { type: 'number' }] } },
};

const jobProperties: Record<string, SchemaObject> = {
  experimentName: { type: 'string' },
  modelName: { type: 'string', description: 'registered model to add the version to; empty to register nothing' },
  trainingSetId: { type: 'string', description: 'SHA-256 id of a feature-store training set' },
  trainer: { type: 'string', description: 'builtin/gbdt-classifier | builtin/gbdt-regressor | builtin/logistic-regression | builtin/linear-regression | external/<configured name>' },
  params: { type: 'object', additionalProperties: { oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] } },
  seed: { type: 'integer', default: 42 },
  split,
  labelColumn: { type: 'string', default: 'label' },
  featureColumns: { type: 'array', items: { type: 'string' }, description: "default: the training set's feature columns" },
  threshold: { type: 'number', default: 0.5 },
  task: { type: 'string', enum: ['binary', 'regression'], description: 'for external trainers' },
  runName: { type: 'string' },
  tags: stringMap,
  description: { type: 'string' },
};

export const trainingJobSchema: SchemaObject = { type: 'object', required: ['experimentName', 'trainingSetId', 'trainer'], properties: jobProperties };

export const tuningJobSchema: SchemaObject = {
  type: 'object',
  required: ['experimentName', 'trainingSetId', 'trainer', 'search'],
  properties: {
    ...jobProperties,
    search: {
      type: 'object',
      properties: {
        space: { type: 'object', description: 'parameter → {values: [...]} or {min, max, scale: linear|log, integer}' },
        strategy: { type: 'string', enum: ['grid', 'random'] },
        maxTrials: { type: 'integer' },
        metric: { type: 'string', default: 'auc' },
        direction: { type: 'string', enum: ['maximize', 'minimize'] },
        workers: { type: 'integer' },
      },
    },
  },
};

export const experimentSchema: SchemaObject = {
  type: 'object',
  properties: { name: { type: 'string' }, description: { type: 'string' }, tags: stringMap, createdBy: { type: 'string' }, createdAt: { type: 'string' } },
};

const artifact: SchemaObject = { type: 'object', properties: { name: { type: 'string' }, uri: { type: 'string' }, sha256: { type: 'string' }, sizeBytes: { type: 'integer' }, contentType: { type: 'string' } } };

export const runSchema: SchemaObject = {
  type: 'object',
  properties: {
    runId: { type: 'string' },
    runName: { type: 'string' },
    experimentName: { type: 'string' },
    modelName: { type: 'string' },
    status: { type: 'string', enum: ['RUNNING', 'FINISHED', 'FAILED', 'KILLED'] },
    trainer: { type: 'object', properties: { name: { type: 'string' }, version: { type: 'string' } } },
    params: stringMap,
    metrics: { type: 'object', additionalProperties: { type: 'number' } },
    tags: stringMap,
    artifacts: { type: 'array', items: artifact },
    trainingData: { type: 'object' },
    seed: { type: 'integer', nullable: true },
    codeCommit: { type: 'string' },
    environmentLockSha256: { type: 'string' },
    parentRunId: { type: 'string', nullable: true },
    registered: { type: 'object', nullable: true, properties: { modelName: { type: 'string' }, version: { type: 'integer' } } },
    outputs: { type: 'object' },
    error: { type: 'object', nullable: true },
    startedAt: { type: 'string' },
    endedAt: { type: 'string', nullable: true },
  },
};

export const runListSchema: SchemaObject = { type: 'object', properties: { runs: { type: 'array', items: { type: 'object' } } } };
