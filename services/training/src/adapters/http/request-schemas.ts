// Shapes of the REST request bodies and of pipeline task params, parsed strictly (REST: an
// unknown field is refused, so a typo is reported instead of silently ignored) and turned into
// the application's requests.
import { z } from 'zod';
import { ValidationError } from '@loopline/errors';
import { defaultDirection, type SearchRequest, type TrainingJobRequest, type TuningJobRequest } from '../../application/job-requests';

const stringMap = z.record(z.string(), z.string()).default({});
const paramValue = z.union([z.string(), z.number(), z.boolean()]);
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a training set id is a SHA-256 (64 lowercase hex digits)');

const splitBody = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('random'), holdoutFraction: z.number().gt(0).lt(1).optional() }).strict(),
  z.object({ kind: z.literal('time'), timeColumn: z.string().min(1).optional(), holdoutFraction: z.number().gt(0).lt(1).optional(), cutoff: z.union([z.string(), z.number()]).optional() }).strict(),
]);

const jobFields = {
  experimentName: z.string().min(1),
  modelName: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,127}$/, 'model names are lowercase letters, digits, . _ - (as in the registry)').or(z.literal('')).default(''),
  trainingSetId: sha256,
  trainer: z.string().min(1),
  params: z.record(z.string(), paramValue).default({}),
  seed: z.number().int().min(0).max(4_294_967_295).default(42),
  split: splitBody.nullable().default(null),
  labelColumn: z.string().min(1).default('label'),
  featureColumns: z.array(z.string().min(1)).min(1).nullable().default(null),
  threshold: z.number().gt(0).lt(1).default(0.5),
  task: z.enum(['binary', 'regression']).nullable().default(null),
  runName: z.string().max(250).default(''),
  tags: stringMap,
  description: z.string().max(10_000).default(''),
};

export const trainingJobBody = z.object(jobFields).strict();

const dimension = z.union([
  z.object({ values: z.array(paramValue).min(1) }).strict(),
  z.object({ min: z.number(), max: z.number(), scale: z.enum(['linear', 'log']).optional(), integer: z.boolean().optional() }).strict(),
]);

const searchBody = z
  .object({
    space: z.record(z.string(), dimension),
    strategy: z.enum(['grid', 'random']).default('random'),
    maxTrials: z.number().int().min(1).max(1_000).default(10),
    metric: z.string().min(1).default('auc'),
    direction: z.enum(['maximize', 'minimize']).optional(),
    workers: z.number().int().min(1).max(64).nullable().default(null),
  })
  .strict();

export const tuningJobBody = z.object({ ...jobFields, search: searchBody }).strict();

export const experimentBody = z.object({ name: z.string(), description: z.string().max(10_000).default(''), tags: stringMap }).strict();
export const createRunBody = z
  .object({
    runName: z.string().max(250).default(''),
    tags: stringMap,
    trainingSetId: z.string().default(''),
    seed: z.number().int().min(0).nullable().default(null),
    codeCommit: z.string().max(128).default(''),
    trainer: z.string().max(250).default('client'),
  })
  .strict();
export const logParamsBody = z.object({ params: z.record(z.string(), paramValue.transform(String)) }).strict();
export const logMetricsBody = z
  .object({ metrics: z.array(z.object({ key: z.string(), value: z.number(), step: z.number().int().min(0).optional(), timestamp: z.string().datetime().optional() }).strict()).min(1) })
  .strict();
export const setTagBody = z.object({ value: z.string() }).strict();
export const endRunBody = z.object({ status: z.enum(['FINISHED', 'FAILED', 'KILLED']).default('FINISHED') }).strict();

/** Parses `value` with `schema`, or throws `ValidationError` naming each problem and its field. */
export function parseBody<S extends z.ZodTypeAny>(schema: S, value: unknown, what = 'body'): z.infer<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.slice(0, 10).map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : what}: ${issue.message}`);
  throw new ValidationError(`invalid ${what}: ${problems.join('; ')}`, { problems });
}

export function toTrainingJob(body: z.infer<typeof trainingJobBody>): TrainingJobRequest {
  return { ...body };
}

export function toTuningJob(body: z.infer<typeof tuningJobBody>): TuningJobRequest {
  const { search, ...job } = body;
  const request: SearchRequest = { ...search, direction: search.direction ?? defaultDirection(search.metric) };
  return { ...job, search: request };
}

// ---------------------------------------------------------------------------------------------
// Pipeline task params (orchestration's `train` and `tune` step kinds): their names, mapped onto
// the REST shape; inputs we do not know are ignored (the step kinds accept open inputs).

const trainTaskKeys = ['trainingSetId', 'trainer', 'params', 'split', 'seed', 'labelColumn', 'featureColumns', 'features', 'threshold', 'task', 'modelName', 'experiment', 'runName', 'tags', 'description'];

function taskJob(params: Readonly<Record<string, unknown>>, defaults: { readonly experimentName: string }) {
  const known: Record<string, unknown> = {};
  for (const key of trainTaskKeys) if (params[key] !== undefined && params[key] !== null) known[key] = params[key];
  const { experiment, features, ...rest } = known;
  return { ...rest, featureColumns: rest.featureColumns ?? features, experimentName: typeof experiment === 'string' ? experiment : defaults.experimentName };
}

export function parseTrainTask(params: Readonly<Record<string, unknown>>, defaults: { readonly experimentName: string }): TrainingJobRequest {
  return toTrainingJob(parseBody(trainingJobBody, taskJob(params, defaults), 'task params'));
}

export function parseTuneTask(params: Readonly<Record<string, unknown>>, defaults: { readonly experimentName: string }): TuningJobRequest {
  const search = {
    space: params.space,
    strategy: params.strategy,
    maxTrials: params.trials ?? params.maxTrials,
    metric: params.metric,
    direction: params.direction,
    workers: params.workers,
  };
  const cleaned = Object.fromEntries(Object.entries(search).filter(([, value]) => value !== undefined && value !== null));
  return toTuningJob(parseBody(tuningJobBody, { ...taskJob(params, defaults), search: cleaned }, 'task params'));
}
