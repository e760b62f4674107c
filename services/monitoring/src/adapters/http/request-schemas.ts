// Request bodies and query strings of the REST API, parsed strictly: a bad field is a 400 naming it.
import { z } from 'zod';
import { ValidationError } from '@loopline/errors';
import { defaultDriftShare, defaultLabelDelay, defaultMinLabelled, parseDuration, type MonitorSpec, defaultRepeatAfter } from '../../domain/monitor/monitor';

const name = z.string().min(1).max(200).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, . _ - (starting with a letter or digit)');
const isoTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/, 'expected an ISO-8601 time with a zone, e.g. 2026-01-10T12:00:00Z')
  .refine((value) => !Number.isNaN(Date.parse(value)), 'not a valid time');
const duration = z.string().refine((value) => parseDuration(value) !== undefined, 'expected a duration such as 30s, 15m, 6h, 1d');
const actor = z.string().regex(/^[a-z]+:[\x21-\x7e]{1,200}$/, 'expected <kind>:<id>, e.g. user:alice');

export const labelsBody = z
  .object({
    labels: z
      .array(
        z
          .object({
            predictionId: z.string().min(1).max(300).optional(),
            modelName: z.string().min(1).max(200).optional(),
            entityKeys: z.record(z.string().min(1).max(200), z.string().max(1000)).optional(),
            targetName: z.string().min(1).max(200),
            value: z.union([z.number().finite(), z.string().max(1000), z.boolean()]),
            eventTime: isoTime,
          })
          .strict()
          .refine((label) => label.predictionId !== undefined || (label.entityKeys !== undefined && Object.keys(label.entityKeys).length > 0), {
            message: 'a label needs a predictionId or non-empty entityKeys',
          }),
      )
      .min(1, 'at least one label')
      .max(10_000, 'at most 10,000 labels per request'),
  })
  .strict();

export type LabelsBody = z.infer<typeof labelsBody>;

const windowSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('count'), size: z.number().int().min(10).max(10_000_000) }).strict(),
  z.object({ kind: z.literal('time'), size: duration.refine((value) => (parseDuration(value) ?? 0) >= 1_000, 'a time window is at least 1s') }).strict(),
]);

export const monitorBody = z
  .object({
    modelName: name,
    alias: z.string().min(1).max(100).optional(),
    version: z.number().int().positive().optional(),
    window: windowSchema,
    drift: z
      .object({
        features: z.array(z.string().min(1).max(300)).min(1).max(5_000).optional(),
        method: z.enum(['auto', 'ks', 'chisquare', 'psi', 'jensenshannon', 'wasserstein']).default('auto'),
        threshold: z.number().positive().finite().optional(),
        driftShare: z.number().gt(0).max(1).default(defaultDriftShare),
        predictionDrift: z.boolean().default(true),
      })
      .strict()
      .optional(),
    performance: z
      .object({
        metric: z.enum(['accuracy', 'roc_auc', 'log_loss', 'precision', 'recall', 'f1', 'rmse', 'mae']),
        threshold: z.number().finite(),
        targetName: z.string().min(1).max(200),
        labelDelay: duration.default(defaultLabelDelay),
        minLabelled: z.number().int().min(1).max(10_000_000).default(defaultMinLabelled),
      })
      .strict()
      .optional(),
    slo: z.object({ latencyP99Ms: z.number().positive().finite().optional(), errorRate: z.number().min(0).max(1).optional() }).strict().optional(),
    severity: z.enum(['warning', 'critical']).default('warning'),
    repeatAfter: duration.default(defaultRepeatAfter),
  })
  .strict()
  .refine((body) => body.drift !== undefined || body.performance !== undefined || body.slo !== undefined, { message: 'a monitor needs drift, performance or slo' })
  .refine((body) => body.alias === undefined || body.version === undefined, { message: 'give alias or version, not both' });

export function monitorSpecOf(monitorName: string, body: unknown): MonitorSpec {
  const parsedName = name.safeParse(monitorName);
  if (!parsedName.success) throw new ValidationError(`monitor name: ${parsedName.error.issues[0]!.message}`, { field: 'name' });
  const parsed = parseBody(monitorBody, body);
  return {
    name: monitorName,
    modelName: parsed.modelName,
    alias: parsed.version === undefined ? (parsed.alias ?? 'champion') : null,
    version: parsed.version ?? null,
    window: parsed.window,
    drift: parsed.drift ? { ...parsed.drift } : null,
    performance: parsed.performance ?? null,
    slo: parsed.slo ?? null,
    severity: parsed.severity,
    repeatAfter: parsed.repeatAfter,
  };
}

export const acknowledgeBody = z.object({ actor, note: z.string().max(2_000).optional() }).strict();
export const dismissBody = z.object({ actor, reason: z.string().min(1).max(2_000) }).strict();
export const backfillBody = z
  .object({ from: isoTime.optional(), to: isoTime.optional(), raiseAlerts: z.boolean().default(false), maxWindows: z.number().int().min(1).max(10_000).default(1_000) })
  .strict();

export const alertsQuery = z
  .object({
    modelName: z.string().min(1).max(200).optional(),
    status: z.enum(['open', 'acknowledged', 'resolved']).optional(),
    limit: z.coerce.number().int().min(1).max(1_000).default(100),
  })
  .strict();

export const performanceQuery = z.object({ from: isoTime.optional(), to: isoTime.optional(), targetName: z.string().min(1).max(200).optional() }).strict();
export const statsQuery = z.object({ since: isoTime.optional() }).strict();

export function parseBody<S extends z.ZodTypeAny>(schema: S, body: unknown, what = 'body'): z.infer<S> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.join('.') || `(${what})`;
  throw new ValidationError(`${field}: ${issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')}` : issue.message}`, { field });
}
