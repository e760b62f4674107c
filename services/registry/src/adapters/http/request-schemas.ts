// Shapes of the REST request bodies, parsed strictly: an unknown field is refused rather than
// ignored, so a typo (`lowerbound`) is reported instead of silently weakening a gate.
import { z } from 'zod';
import { ValidationError } from '@loopline/errors';
import type { ModelLineage, PromotionPolicy } from '../../domain/registered-model/registered-model';
import type { VersionMetadata } from '../../application/model-version-registration';

const stringMap = z.record(z.string(), z.string()).default({});
const actor = z.string().optional();
const reason = z.string().default('');

export const createModelBody = z
  .object({
    name: z.string(),
    description: z.string().default(''),
    owner: z.string().default(''),
    tags: stringMap,
    actor,
  })
  .strict();

export const setAliasBody = z.object({ version: z.number().int(), actor, reason }).strict();
export const changeBody = z.object({ actor, reason }).strict();
export const promoteBody = z.object({ alias: z.string().default('champion'), actor, reason }).strict();
export const evaluateBody = z.object({ alias: z.string().default('champion') }).strict();

const lineageBody = z
  .object({
    trainingRunId: z.string().default(''),
    pipelineRunId: z.string().default(''),
    experimentName: z.string().default(''),
    trainingSetId: z.string().default(''),
    datasetVersionIds: z.array(z.string()).default([]),
    featureViews: z.array(z.object({ viewName: z.string(), viewVersion: z.number().int() }).strict()).default([]),
    trainerName: z.string().default(''),
    trainerVersion: z.string().default(''),
    codeCommit: z.string().default(''),
  })
  .strict();

export const versionMetadataBody = z
  .object({
    description: z.string().default(''),
    metrics: z.record(z.string(), z.number()).default({}),
    params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
    tags: stringMap,
    lineage: lineageBody.default({}),
    referenceProfile: z.unknown().optional(),
    /** Idempotency key; the `Idempotency-Key` header does the same. */
    requestId: z.string().optional(),
    actor,
  })
  .strict();

const thresholdBody = z
  .object({
    metric: z.string(),
    direction: z.enum(['HIGHER_IS_BETTER', 'LOWER_IS_BETTER']),
    lowerBound: z.number().nullable().default(null),
    upperBound: z.number().nullable().default(null),
    minImprovement: z.number().nullable().default(null),
    maxDegradation: z.number().nullable().default(null),
  })
  .strict();

export const policyBody = z
  .object({
    name: z.string().default('default'),
    baselineAlias: z.string().default('champion'),
    thresholds: z.array(thresholdBody),
    actor,
  })
  .strict();

/** Parses `value` with `schema`, or throws `ValidationError` naming each problem and its field. */
export function parseBody<S extends z.ZodTypeAny>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.slice(0, 10).map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : what}: ${issue.message}`);
  throw new ValidationError(`invalid ${what}: ${problems.join('; ')}`, { problems });
}

export function toPolicy(body: z.infer<typeof policyBody>): PromotionPolicy {
  return { name: body.name, baselineAlias: body.baselineAlias, thresholds: body.thresholds };
}

export function toVersionMetadata(body: z.infer<typeof versionMetadataBody>): VersionMetadata {
  const lineage: ModelLineage = body.lineage;
  return {
    description: body.description,
    metrics: body.metrics,
    params: body.params,
    tags: body.tags,
    lineage,
    referenceProfile: body.referenceProfile ?? null,
  };
}

/** The metadata part of a registration upload (JSON text), parsed. */
export function parseVersionMetadataJson(text: string | undefined): z.infer<typeof versionMetadataBody> {
  if (text === undefined || text.trim() === '') return parseBody(versionMetadataBody, {}, 'metadata');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`the "metadata" part is not JSON: ${error instanceof Error ? error.message : String(error)}`, { field: 'metadata' });
  }
  return parseBody(versionMetadataBody, json, 'metadata');
}
