// Request bodies of the REST API, parsed strictly: a bad field is a 400 naming it.
import { z } from 'zod';
import { ValidationError } from '@loopline/errors';

const entityValue = z.union([z.string(), z.number(), z.boolean()]);

export const definitionsFileBody = z.object({ file: z.string().min(1).max(1024 * 1024), fileName: z.string().max(500).default('definitions.yaml') }).strict();
export const materializeBody = z.object({ view: z.string().min(1).max(200), version: z.number().int().positive().optional(), datasetVersionId: z.string().min(1).max(200).optional() }).strict();
export const onlineFeaturesBody = z
  .object({
    featureService: z.string().min(1).max(200).optional(),
    features: z.array(z.string().min(1).max(300)).max(5_000).optional(),
    entities: z.record(z.array(entityValue).max(1_000)),
  })
  .strict();

/**
 * An online lookup's body, checked by hand when it is well-formed (the hot path: no copies, no
 * allocation per entity value), by `onlineFeaturesBody` otherwise, whose error names the problem.
 * Both accept exactly the same bodies.
 */
export function parseOnlineFeaturesBody(body: unknown): z.infer<typeof onlineFeaturesBody> {
  return isWellFormedOnlineBody(body) ? body : parseBody(onlineFeaturesBody, body);
}

function isWellFormedOnlineBody(body: unknown): body is z.infer<typeof onlineFeaturesBody> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const { featureService, features, entities, ...unknown } = body as Record<string, unknown>;
  for (const _ in unknown) return false;
  if (featureService !== undefined && !(typeof featureService === 'string' && featureService.length >= 1 && featureService.length <= 200)) return false;
  if (features !== undefined) {
    if (!Array.isArray(features) || features.length > 5_000) return false;
    for (const feature of features) if (typeof feature !== 'string' || feature.length < 1 || feature.length > 300) return false;
  }
  if (typeof entities !== 'object' || entities === null || Array.isArray(entities)) return false;
  for (const key in entities) {
    const values = (entities as Record<string, unknown>)[key];
    if (!Array.isArray(values) || values.length > 1_000) return false;
    for (const value of values) if (typeof value !== 'string' && typeof value !== 'boolean' && !(typeof value === 'number' && Number.isFinite(value))) return false;
  }
  return true;
}

export const pushBody = z
  .object({
    featureView: z.string().min(1).max(200),
    to: z.enum(['online', 'offline', 'online_and_offline']).default('online_and_offline'),
    rows: z.array(z.record(z.unknown())).max(10_000),
  })
  .strict();
export const trainingSetBody = z
  .object({
    entities: z.object({ source: z.string().min(1).max(200), versionId: z.string().min(1).max(200), eventTimeColumn: z.string().min(1).max(200).optional() }).strict(),
    featureService: z.string().min(1).max(200).optional(),
    features: z.array(z.string().min(1).max(300)).max(5_000).optional(),
    start: z.string().optional(),
    end: z.string().optional(),
    datasetVersions: z.record(z.union([z.string().min(1).max(200), z.array(z.string().min(1).max(200)).min(1).max(1_000)])).optional(),
  })
  .strict();

export function parseBody<S extends z.ZodTypeAny>(schema: S, body: unknown): z.infer<S> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.join('.') || '(body)';
  throw new ValidationError(`${field}: ${issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')}` : issue.message}`, { field });
}
