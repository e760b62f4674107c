// The reference data profile of a version: statistics of the training features that monitoring
// compares live traffic with (drift). The registry checks its shape and stores it as a
// content-addressed JSON artifact; it does not interpret the numbers.
import { z } from 'zod';
import { ValidationError } from '@loopline/errors';

const count = z.number().int().nonnegative();
const finite = z.number().finite();

const histogram = z
  .object({
    /** Bin edges, ascending; bin i is [edges[i], edges[i+1]). */
    edges: z.array(finite).min(2).max(10_001),
    counts: z.array(count),
  })
  .refine((value) => value.counts.length === value.edges.length - 1, { message: 'histogram.counts must have one entry per bin (edges.length - 1)' })
  .refine((value) => value.edges.every((edge, index) => index === 0 || edge > value.edges[index - 1]!), { message: 'histogram.edges must be strictly ascending' });

const numericFeature = z
  .object({
    kind: z.literal('numeric'),
    count,
    missing: count.default(0),
    min: finite.optional(),
    max: finite.optional(),
    mean: finite.optional(),
    std: finite.nonnegative().optional(),
    /** Quantile → value, keys as decimal fractions: `{"0.5": 12.0, "0.99": 40.2}`. */
    quantiles: z.record(z.string().regex(/^(0(\.\d+)?|1(\.0+)?)$/, 'quantile keys are fractions between 0 and 1'), finite).optional(),
    histogram: histogram.optional(),
  })
  .passthrough();

const categoricalFeature = z
  .object({
    kind: z.literal('categorical'),
    count,
    missing: count.default(0),
    /** Category → share or count of rows. */
    frequencies: z.record(z.string().max(1_000), z.number().finite().nonnegative()),
  })
  .passthrough();

/** The profile format (version 1). Unknown extra fields are kept, so producers can add statistics. */
export const referenceProfileSchema = z
  .object({
    rowCount: count,
    features: z
      .record(z.string().min(1).max(256), z.discriminatedUnion('kind', [numericFeature, categoricalFeature]))
      .refine((features) => Object.keys(features).length > 0, { message: 'a profile describes at least one feature' }),
  })
  .passthrough();

export type ReferenceProfile = z.infer<typeof referenceProfileSchema>;

/** The profile, checked; `ValidationError` naming the first problems otherwise. */
export function parseReferenceProfile(value: unknown): ReferenceProfile {
  const result = referenceProfileSchema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.slice(0, 5).map((issue) => `${['referenceProfile', ...issue.path].join('.')}: ${issue.message}`);
  throw new ValidationError(`invalid reference profile: ${problems.join('; ')}`, { field: 'referenceProfile', problems });
}
