// REST request bodies, parsed strictly (an unknown field is refused, not ignored), and pipeline
// documents from YAML or JSON. A YAML syntax error is reported with its line and column.
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { ValidationError } from '@loopline/errors';
import type { RequestContext } from '../../application/ports';

export const actorHeader = 'x-loopline-actor';
export const correlationHeader = 'x-correlation-id';
const maxDocumentBytes = 1024 * 1024;

export type Headers = Readonly<Record<string, string | string[] | undefined>>;

export function actorFrom(value: string | string[] | undefined): string {
  const actor = Array.isArray(value) ? value[0] : value;
  if (actor === undefined || actor.trim() === '') return 'anonymous';
  if (actor.length > 200 || !/^[\x21-\x7e]+$/.test(actor)) {
    throw new ValidationError(`the ${actorHeader} header must be 1-200 printable characters without spaces, e.g. user:alice`, { field: actorHeader });
  }
  return actor;
}

export function contextFrom(headers: Headers): RequestContext {
  const correlation = headers[correlationHeader];
  const correlationId = Array.isArray(correlation) ? correlation[0] : correlation;
  return { actor: actorFrom(headers[actorHeader]), correlationId: correlationId && /^[\x21-\x7e]{1,200}$/.test(correlationId) ? correlationId : undefined };
}

/** A pipeline document from YAML (or JSON, which is YAML) text. */
export function documentFromText(text: string): unknown {
  if (Buffer.byteLength(text, 'utf8') > maxDocumentBytes) throw new ValidationError(`a pipeline definition is at most ${maxDocumentBytes} bytes`, { field: 'yaml' });
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    const problems = document.errors.map((error) => ({ path: error.linePos ? `line ${error.linePos[0].line}, column ${error.linePos[0].col}` : '(document)', message: error.message.split('\n')[0]! }));
    throw new ValidationError(`invalid YAML: ${problems.map((problem) => `${problem.path}: ${problem.message}`).join('; ')}`, { problems });
  }
  return document.toJS({ maxAliasCount: 100 });
}

export const definitionBody = z.union([z.object({ yaml: z.string() }).strict(), z.object({ definition: z.record(z.unknown()) }).strict()]);

/** The document of an apply/validate request: `{yaml: "..."}` or `{definition: {...}}`. */
export function documentFromBody(body: unknown): unknown {
  const parsed = parseBody(definitionBody, body, 'request');
  return 'yaml' in parsed ? documentFromText(parsed.yaml) : parsed.definition;
}

const jsonValue: z.ZodType<unknown> = z.unknown();

export const startRunBody = z
  .object({
    params: z.record(jsonValue).default({}),
    version: z.number().int().positive().optional(),
    /** Idempotency key: a retried request with the same key returns the same run. */
    requestId: z.string().min(1).max(200).optional(),
  })
  .strict();

export const cancelBody = z.object({ reason: z.string().max(1000).default('cancelled by request') }).strict();

export function parseBody<S extends z.ZodTypeAny>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.slice(0, 10).map((issue) => ({ path: issue.path.join('.') || what, message: issue.message }));
  throw new ValidationError(`invalid ${what}: ${problems.map((problem) => `${problem.path}: ${problem.message}`).join('; ')}`, { problems });
}

export function positiveInteger(value: string | undefined, field: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,12}$/.test(value)) throw new ValidationError(`"${field}" must be a non-negative integer`, { field });
  return Number(value);
}
