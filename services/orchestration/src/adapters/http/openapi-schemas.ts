// OpenAPI schemas of orchestration's REST bodies (served at /openapi.json).
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';

const iso: SchemaObject = { type: 'string', format: 'date-time' };
const anyObject: SchemaObject = { type: 'object', additionalProperties: true };

export const errorSchema: SchemaObject = {
  type: 'object',
  required: ['error', 'code'],
  properties: {
    error: { type: 'string' },
    code: { type: 'string', enum: ['VALIDATION', 'NOT_FOUND', 'ILLEGAL_STATE', 'CONCURRENCY', 'UNAVAILABLE', 'INTERNAL', 'HTTP'] },
    details: {
      type: 'object',
      description: 'For an invalid definition: `problems`, each with the exact `path` (e.g. `steps[3].inputs.trainingSetId`) and `message`.',
      properties: { problems: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } } },
    },
  },
};

export const definitionRequestSchema: SchemaObject = {
  description: 'The pipeline definition as YAML text, or as the JSON form of that YAML.',
  oneOf: [
    { type: 'object', required: ['yaml'], properties: { yaml: { type: 'string', example: 'name: hello\nsteps:\n  - id: hi\n    kind: command\n    command: [echo, hi]\n' } } },
    { type: 'object', required: ['definition'], properties: { definition: anyObject } },
  ],
};

export const pipelineSchema: SchemaObject = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    version: { type: 'integer', minimum: 1 },
    definitionHash: { type: 'string', description: 'SHA-256 of the canonical normalized definition' },
    description: { type: 'string' },
    steps: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, kind: { type: 'string' }, dependsOn: { type: 'array', items: { type: 'string' } } } } },
    triggers: { type: 'array', items: anyObject },
    params: anyObject,
    definition: { ...anyObject, description: 'the normalized definition' },
    document: { ...anyObject, description: 'the document as applied' },
    appliedBy: { type: 'string' },
    appliedAt: iso,
    versions: { type: 'array', items: { type: 'object', properties: { version: { type: 'integer' }, definitionHash: { type: 'string' }, appliedAt: iso, appliedBy: { type: 'string' } } } },
  },
};

export const applyResponseSchema: SchemaObject = { type: 'object', properties: { pipeline: pipelineSchema, changed: { type: 'boolean', description: 'false when identical to the latest version' } } };

export const validateResponseSchema: SchemaObject = {
  type: 'object',
  properties: { valid: { type: 'boolean' }, problems: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } } },
};

export const startRunSchema: SchemaObject = {
  type: 'object',
  properties: {
    params: { ...anyObject, description: "values of the pipeline's parameters; missing ones take their defaults" },
    version: { type: 'integer', minimum: 1, description: 'pipeline version to run; the latest by default' },
    requestId: { type: 'string', description: 'idempotency key: a retried request with the same key returns the same run' },
  },
};

const attemptSchema: SchemaObject = {
  type: 'object',
  properties: {
    attempt: { type: 'integer' },
    idempotencyKey: { type: 'string' },
    status: { type: 'string', enum: ['running', 'succeeded', 'failed', 'timed_out', 'abandoned'] },
    dispatchedAt: { ...iso, nullable: true },
    startedAt: { ...iso, nullable: true },
    endedAt: { ...iso, nullable: true },
    durationMs: { type: 'number', nullable: true },
    error: { type: 'object', nullable: true, properties: { code: { type: 'string' }, message: { type: 'string' }, retryable: { type: 'boolean' } } },
    executor: { type: 'string' },
  },
};

export const runSchema: SchemaObject = {
  type: 'object',
  properties: {
    runId: { type: 'string', format: 'uuid' },
    pipelineName: { type: 'string' },
    pipelineVersion: { type: 'integer' },
    status: { type: 'string', enum: ['queued', 'running', 'succeeded', 'failed', 'cancelled'] },
    trigger: { type: 'object', properties: { kind: { type: 'string', enum: ['manual', 'schedule', 'event'] }, actor: { type: 'string' }, triggerName: { type: 'string', nullable: true }, eventType: { type: 'string', nullable: true }, eventId: { type: 'string', nullable: true } } },
    params: anyObject,
    outputs: { ...anyObject, nullable: true },
    createdAt: iso,
    startedAt: { ...iso, nullable: true },
    endedAt: { ...iso, nullable: true },
    failedTaskId: { type: 'string', nullable: true },
    cancelReason: { type: 'string', nullable: true },
    revision: { type: 'integer', description: 'grows with every change: pass it as afterRevision to wait for the next one' },
    tasks: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          taskId: { type: 'string' },
          stepKind: { type: 'string' },
          status: { type: 'string', enum: ['pending', 'ready', 'running', 'retry_wait', 'succeeded', 'failed', 'skipped', 'cancelled'] },
          dependsOn: { type: 'array', items: { type: 'string' } },
          cached: { type: 'boolean' },
          skipReason: { type: 'string', nullable: true },
          inputs: { ...anyObject, nullable: true },
          outputs: { ...anyObject, nullable: true },
          cacheKey: { type: 'string', nullable: true },
          attempts: { type: 'array', items: attemptSchema },
        },
      },
    },
  },
};

export const runListSchema: SchemaObject = { type: 'object', properties: { runs: { type: 'array', items: runSchema } } };

export const logsSchema: SchemaObject = {
  type: 'object',
  properties: { attempts: { type: 'array', items: { type: 'object', properties: { attempt: { type: 'integer' }, logs: { type: 'string' }, logsUri: { type: 'string' } } } } },
};

const artifactSchema: SchemaObject = { type: 'object', properties: { artifactId: { type: 'string' }, kind: { type: 'string' } } };

export const lineageSchema: SchemaObject = {
  type: 'object',
  properties: {
    artifact: artifactSchema,
    upstream: { type: 'array', items: artifactSchema },
    downstream: { type: 'array', items: artifactSchema },
    tasks: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          runId: { type: 'string' },
          taskId: { type: 'string' },
          stepKind: { type: 'string' },
          pipelineName: { type: 'string' },
          pipelineVersion: { type: 'integer' },
          codeVersion: { type: 'string' },
          inputs: { type: 'array', items: { type: 'string' } },
          outputs: { type: 'array', items: { type: 'string' } },
          parameters: anyObject,
          completedAt: iso,
        },
      },
    },
  },
};
