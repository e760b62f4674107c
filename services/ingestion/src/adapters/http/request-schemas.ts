// The shapes of REST request bodies, checked before anything else happens. Shapes only (unknown
// keys are refused, so a typo like "nulable" is an error, not a silently ignored field); the
// rules of a definition are the domain's (normalizeSourceDefinition).
import { z } from 'zod';
import { ValidationError } from '@loopline/errors';
import type { SourceDefinitionInput } from '../../domain/source/source-definition';

const bound = z.union([z.number(), z.string()]).nullable().optional();

const columnSchema = z
  .object({
    name: z.string(),
    type: z.string(),
    nullable: z.boolean().optional(),
    min: bound,
    max: bound,
    categories: z.array(z.string()).nullable().optional(),
    maxNullRate: z.number().nullable().optional(),
    driftThreshold: z.number().nullable().optional(),
  })
  .strict();

const driftSchema = z.object({ method: z.string().optional(), threshold: z.number().nullable().optional() }).strict().nullable().optional();

export const sourceBody = z
  .object({
    columns: z.array(columnSchema).min(1),
    eventTimeColumn: z.string().nullable().optional(),
    entityColumns: z.array(z.string()).optional(),
    policy: z
      .object({
        rules: z.record(z.string()).optional(),
        maxNullRate: z.number().nullable().optional(),
        maxRowCountChange: z.number().nullable().optional(),
        numericDrift: driftSchema,
        categoricalDrift: driftSchema,
      })
      .strict()
      .optional(),
    defaultUri: z.string().nullable().optional(),
  })
  .strict();

/** PUT /v1/sources/{name}/stream. */
export const streamBody = z
  .object({
    topic: z.string().min(1),
    maxRows: z.number().int().optional(),
    maxInterval: z.string().min(1).optional(),
  })
  .strict();

export const importBody = z
  .object({
    path: z.string().min(1).optional(),
    uri: z.string().min(1).optional(),
    format: z.string().optional(),
  })
  .strict();

/** The body parsed by `schema`, or a ValidationError naming the first bad field. */
export function parseBody<S extends z.ZodTypeAny>(schema: S, body: unknown): z.infer<S> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.join('.') || 'body';
  throw new ValidationError(`invalid request body: ${field}: ${issue.message}`, { field, issues: result.error.issues.slice(0, 10).map((i) => `${i.path.join('.')}: ${i.message}`) });
}

export function toDefinitionInput(body: z.infer<typeof sourceBody>): SourceDefinitionInput {
  return body as SourceDefinitionInput;
}
