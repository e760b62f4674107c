// Data drift of a window against a reference, computed inside ClickHouse — the monitoring
// service's drift API (the monitors call `computeDataDrift`).
//
// How to use it
// -------------
//   const result = await computeDataDrift(clickhouse, {
//     reference: 'SELECT hour, distance, origin FROM monitoring.reference_rows WHERE model = ...',
//     current:   'SELECT hour, distance, origin FROM monitoring.predictions WHERE ... (the window)',
//     features: [{ name: 'hour', kind: 'numerical' }, { name: 'distance', kind: 'numerical' }, { name: 'origin', kind: 'categorical' }],
//     // method: 'auto' (default) | 'ks' | 'chisquare' | 'z' | 'psi' | 'jensenshannon' | 'wasserstein'
//     // threshold: the method's Evidently default when absent (0.05 for p-values, 0.1 for distances)
//     // driftShare: 0.5 (the dataset drifts when at least this share of features drift)
//   });
//   // → { features: [{ feature, method, value, threshold, drifted, referenceSize, currentSize }], driftedShare, drifted }
//
// - `reference` and `current` are SQL subqueries (no trailing semicolon) that each yield one column
//   per feature, named as the feature. They are run several times (once for the sizes and distinct
//   counts of every feature, then once per feature), so they must be deterministic: a window
//   written with a fixed time range or an ORDER BY … LIMIT on a unique key.
// - Missing values are dropped per feature, as Evidently does (NULL, and NaN/±∞ of numerical
//   features); sizes are counted after that. A feature with no value left on one side is an error
//   (`ValidationError`, as Evidently raises), as are unknown columns and bad options.
// - The method per feature follows Evidently 0.7.23 (see domain/drift/drift-methods.ts): with at
//   most 1000 reference values, KS for numerical features (more than 5 distinct values), χ² for
//   categorical ones (and numerical ones with 3–5 values), the Z-test for binary ones; above 1000,
//   the Wasserstein distance normed by the reference standard deviation for numerical features and
//   the Jensen–Shannon distance for categorical ones. `value` is the p-value for ks/chisquare/z
//   (drift when small) and the distance for wasserstein/jensenshannon/psi (drift when large).
// - Only aggregates leave ClickHouse: sizes and distinct counts, KS's D·n₁·n₂ and the Wasserstein
//   integral (window functions over the sorted union of both samples), histogram bin counts and
//   category counts. The p-values are finished in Node by pure functions (domain/drift/) that port
//   scipy's `ks_2samp` (exact and asymptotic, as `method='auto'` chooses) and χ²/normal tails.
import type { ClickHouseClient } from '@clickhouse/client';
import { ValidationError } from '@loopline/errors';
import {
  chiSquareTest,
  jensenShannonDistance,
  maxDistinctForValueBins,
  normedWasserstein,
  populationStabilityIndex,
  sturgesBinCount,
  zTest,
  type BinCounts,
} from '../../domain/drift/distribution-statistics';
import { datasetDrift, defaultThreshold, driftMethods, isDrifted, resolveDriftMethod, type DriftMethod, type DriftMethodRequest } from '../../domain/drift/drift-methods';

/** Whether a method may be asked for a feature of this kind (Evidently's rule: KS and Wasserstein numerical only, χ² and Z categorical only). */
export { methodApplies } from '../../domain/drift/drift-methods';
import { ksTwoSampleTest } from '../../domain/drift/ks-p-value';

export interface DriftFeature {
  name: string;
  kind: 'numerical' | 'categorical';
}

export interface DataDriftRequest {
  /** SQL subquery yielding one column per feature (the reference rows). */
  reference: string;
  /** SQL subquery yielding the same columns (the window's rows). */
  current: string;
  features: DriftFeature[];
  method?: 'auto' | 'ks' | 'chisquare' | 'psi' | 'jensenshannon' | 'wasserstein' | 'z';
  /** Per-method default when absent (Evidently's defaults: 0.05 for p-values, 0.1 for distances). */
  threshold?: number;
  /** Default 0.5. */
  driftShare?: number;
}

export interface FeatureDriftResult {
  feature: string;
  method: string;
  value: number;
  threshold: number;
  drifted: boolean;
  referenceSize: number;
  currentSize: number;
}

export interface DataDriftResult {
  features: FeatureDriftResult[];
  driftedShare: number;
  drifted: boolean;
}

export interface DataDriftOptions {
  /** Called after each feature is done (long requests: many features over large windows). */
  onProgress?: (progress: { done: number; total: number; feature: string }) => void;
}

const jsonSettings = { output_format_json_quote_64bit_integers: 0 } as const;
const sideColumn = '__loopline_side';
const valueColumn = '__loopline_value';

interface FeatureStats {
  readonly referenceSize: number;
  readonly currentSize: number;
  /** Capped at maxDistinctForValueBins + 1. */
  readonly distinct: number;
  readonly referenceDistinct: number;
  readonly minBits: string | null;
  readonly maxBits: string | null;
  readonly referenceStd: number | null;
  /** An estimate (HyperLogLog) of the distinct values over both samples: picks the ECDF query plan. */
  readonly approximateDistinct: number;
}

interface ColumnTypes {
  readonly reference: ReadonlyMap<string, string>;
  readonly current: ReadonlyMap<string, string>;
}

export async function computeDataDrift(client: ClickHouseClient, request: DataDriftRequest, options: DataDriftOptions = {}): Promise<DataDriftResult> {
  const requested = checkRequest(request);
  const types = await describeSamples(client, request);
  const stats = await featureStats(client, request, types);
  const results: FeatureDriftResult[] = [];
  for (const [index, feature] of request.features.entries()) {
    const stat = stats[index]!;
    if (stat.referenceSize === 0 || stat.currentSize === 0) {
      const side = stat.referenceSize === 0 ? 'reference' : 'current';
      throw new ValidationError(`feature "${feature.name}" has no non-missing value in the ${side} data, so its drift cannot be computed`, { feature: feature.name, side });
    }
    const method = resolveDriftMethod(requested, feature.name, { kind: feature.kind, referenceSize: stat.referenceSize, distinctValues: stat.distinct });
    const value = await featureValue(client, request, feature, stat, method, integerColumn(types, feature.name));
    const threshold = request.threshold ?? defaultThreshold(method);
    results.push({ feature: feature.name, method, value, threshold, drifted: isDrifted(method, value, threshold), referenceSize: stat.referenceSize, currentSize: stat.currentSize });
    options.onProgress?.({ done: index + 1, total: request.features.length, feature: feature.name });
  }
  return { features: results, ...datasetDrift(results.map((result) => result.drifted), request.driftShare ?? 0.5) };
}

function checkRequest(request: DataDriftRequest): DriftMethodRequest {
  const method = request.method ?? 'auto';
  if (method !== 'auto' && !driftMethods.includes(method)) {
    throw new ValidationError(`unknown drift method "${String(method)}"; expected auto, ${driftMethods.join(', ')}`, { method });
  }
  if (!Array.isArray(request.features) || request.features.length === 0) throw new ValidationError('a drift request needs at least one feature', { features: request.features });
  const seen = new Set<string>();
  for (const feature of request.features) {
    if (typeof feature.name !== 'string' || feature.name.length === 0) throw new ValidationError('every drift feature needs a non-empty name', { feature });
    if (seen.has(feature.name)) throw new ValidationError(`feature "${feature.name}" is listed twice`, { feature: feature.name });
    seen.add(feature.name);
    if (feature.kind !== 'numerical' && feature.kind !== 'categorical') {
      throw new ValidationError(`feature "${feature.name}" has kind "${String(feature.kind)}"; expected numerical or categorical`, { feature: feature.name, kind: feature.kind });
    }
  }
  if (request.threshold !== undefined && !(Number.isFinite(request.threshold) && request.threshold > 0)) {
    throw new ValidationError(`threshold must be a positive number, got ${String(request.threshold)}`, { threshold: request.threshold });
  }
  if (request.driftShare !== undefined && !(Number.isFinite(request.driftShare) && request.driftShare > 0 && request.driftShare <= 1)) {
    throw new ValidationError(`driftShare must be in (0, 1], got ${String(request.driftShare)}`, { driftShare: request.driftShare });
  }
  for (const side of ['reference', 'current'] as const) {
    const sql = request[side];
    if (typeof sql !== 'string' || sql.trim().length === 0) throw new ValidationError(`the ${side} query is empty`, { side });
    if (sql.trim().endsWith(';')) throw new ValidationError(`the ${side} query must be a subquery, without a trailing semicolon`, { side });
  }
  return method;
}

export function quoteIdentifier(name: string): string {
  return `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!.replace(/^Code: \d+\. DB::Exception: /, '').slice(0, 500);
}

async function rows<T>(client: ClickHouseClient, query: string): Promise<T[]> {
  const result = await client.query({ query, format: 'JSONEachRow', clickhouse_settings: jsonSettings });
  return result.json<T>();
}

async function describeSamples(client: ClickHouseClient, request: DataDriftRequest): Promise<ColumnTypes> {
  const describe = async (side: 'reference' | 'current'): Promise<Map<string, string>> => {
    let described: { name: string; type: string }[];
    try {
      described = await rows<{ name: string; type: string }>(client, `DESCRIBE (${request[side]})`);
    } catch (error) {
      throw new ValidationError(`the ${side} query is not valid: ${firstLine(error)}`, { side });
    }
    const columns = new Map(described.map((column) => [column.name, column.type]));
    const missing = request.features.filter((feature) => !columns.has(feature.name)).map((feature) => feature.name);
    if (missing.length > 0) {
      throw new ValidationError(`the ${side} query has no column(s) ${missing.join(', ')} (it has: ${[...columns.keys()].join(', ')})`, { side, missing });
    }
    return columns;
  };
  return { reference: await describe('reference'), current: await describe('current') };
}

function baseType(type: string): string {
  let inner = type;
  for (let unwrapped = inner.replace(/^(Nullable|LowCardinality)\((.*)\)$/, '$2'); unwrapped !== inner; unwrapped = inner.replace(/^(Nullable|LowCardinality)\((.*)\)$/, '$2')) inner = unwrapped;
  return inner;
}

/** numpy treats an integer column differently when binning (a bin is at least 1 wide). */
function integerColumn(types: ColumnTypes, feature: string): boolean {
  const isInteger = (type: string | undefined) => type !== undefined && /^U?Int\d+$/.test(baseType(type));
  return isInteger(types.reference.get(feature)) && isInteger(types.current.get(feature));
}

/** A feature's values with the missing ones as NULL: NULL, and NaN/±∞ for numerical features. */
function valueExpression(feature: DriftFeature): string {
  const column = quoteIdentifier(feature.name);
  if (feature.kind === 'numerical') return `if(isNull(${column}) OR NOT isFinite(assumeNotNull(toFloat64(${column}))), NULL, toFloat64(${column}))`;
  return `if(isNull(${column}), NULL, ${column})`;
}

/** Both samples of one feature, side 0 = reference, 1 = current, missing values dropped. */
function unionSql(request: DataDriftRequest, feature: DriftFeature): string {
  const value = valueExpression(feature);
  return `SELECT ${valueColumn}, ${sideColumn} FROM (
    SELECT 0 AS ${sideColumn}, ${value} AS ${valueColumn} FROM (${request.reference})
    UNION ALL
    SELECT 1 AS ${sideColumn}, ${value} AS ${valueColumn} FROM (${request.current})
  ) WHERE ${valueColumn} IS NOT NULL`;
}

async function featureStats(client: ClickHouseClient, request: DataDriftRequest, types: ColumnTypes): Promise<FeatureStats[]> {
  const cap = maxDistinctForValueBins + 1;
  const columns = request.features.map((feature) => `${valueExpression(feature)} AS c${request.features.indexOf(feature)}`).join(', ');
  const aggregates = request.features
    .map((feature, index) => {
      const c = `c${index}`;
      const numeric =
        feature.kind === 'numerical'
          ? `toString(reinterpretAsUInt64(min(${c}))) AS min${index}, toString(reinterpretAsUInt64(max(${c}))) AS max${index}, stddevPopStableIf(${c}, ${sideColumn} = 0) AS std${index}, uniqCombined(${c}) AS approxDistinct${index}`
          : `NULL AS min${index}, NULL AS max${index}, NULL AS std${index}, NULL AS approxDistinct${index}`;
      return `countIf(${c} IS NOT NULL AND ${sideColumn} = 0) AS ref${index}, countIf(${c} IS NOT NULL AND ${sideColumn} = 1) AS cur${index},
        uniqUpTo(${cap})(${c}) AS distinct${index}, uniqUpToIf(${cap})(${c}, ${sideColumn} = 0) AS refDistinct${index}, ${numeric}`;
    })
    .join(',\n');
  const sql = `SELECT ${aggregates} FROM (
    SELECT 0 AS ${sideColumn}, ${columns} FROM (${request.reference})
    UNION ALL
    SELECT 1 AS ${sideColumn}, ${columns} FROM (${request.current}))`;
  let row: Record<string, number | string | null> | undefined;
  try {
    [row] = await rows<Record<string, number | string | null>>(client, sql);
  } catch (error) {
    throw new ValidationError(`reading the drift samples failed: ${firstLine(error)}`, { reference: types.reference.size, current: types.current.size });
  }
  return request.features.map((feature, index) => {
    const referenceSize = Number(row?.[`ref${index}`] ?? 0);
    const currentSize = Number(row?.[`cur${index}`] ?? 0);
    const present = referenceSize + currentSize > 0 && feature.kind === 'numerical';
    return {
      referenceSize,
      currentSize,
      distinct: Number(row?.[`distinct${index}`] ?? 0),
      referenceDistinct: Number(row?.[`refDistinct${index}`] ?? 0),
      minBits: present ? String(row?.[`min${index}`]) : null,
      maxBits: present ? String(row?.[`max${index}`]) : null,
      referenceStd: referenceSize > 0 && feature.kind === 'numerical' ? Number(row?.[`std${index}`]) : null,
      approximateDistinct: Number(row?.[`approxDistinct${index}`] ?? 0),
    };
  });
}

async function featureValue(client: ClickHouseClient, request: DataDriftRequest, feature: DriftFeature, stat: FeatureStats, method: DriftMethod, integerValues: boolean): Promise<number> {
  const n1 = stat.referenceSize;
  const n2 = stat.currentSize;
  switch (method) {
    case 'ks': {
      const { dTimesSizes } = await ecdfComparison(client, request, feature, stat);
      return ksTwoSampleTest(dTimesSizes, n1, n2).pValue;
    }
    case 'wasserstein': {
      const { wasserstein } = await ecdfComparison(client, request, feature, stat);
      return normedWasserstein(wasserstein, stat.referenceStd ?? 0);
    }
    case 'chisquare':
      return chiSquareTest(await valueCounts(client, request, feature), n1, n2);
    case 'z':
      return zTest(await valueCounts(client, request, feature), n1, n2);
    case 'psi':
    case 'jensenshannon': {
      const binned = feature.kind === 'numerical' && stat.referenceDistinct > maxDistinctForValueBins;
      const bins = binned ? await histogram(client, request, feature, stat, integerValues) : await valueCounts(client, request, feature);
      return method === 'psi' ? populationStabilityIndex(bins, n1, n2) : jensenShannonDistance(bins, n1, n2);
    }
    default: {
      const unexpected: never = method;
      throw new ValidationError(`unknown drift method ${String(unexpected)}`);
    }
  }
}

/**
 * Over the union of both samples sorted by value, the cumulative counts of each side at every
 * distinct value (all values ≤ it, ties included, as scipy's `searchsorted(side='right')`):
 * - D·n₁·n₂ = max |n₂·cumRef − n₁·cumCur|, an exact integer (KS);
 * - ∫|F_ref − F_cur| = Σ (next value − value)·|cumRef/n₁ − cumCur/n₂| (scipy's wasserstein_distance).
 * Two plans with the same result: when values repeat a lot, count per distinct value first so the
 * windows run over few rows; when they are mostly distinct (continuous), the windows run over the
 * rows themselves, which saves a GROUP BY that would barely shrink the data. Then a run of equal
 * values is judged at its last row only (the next value differs, or there is none: +∞), whose
 * running counts include the whole run; the other rows of the run add a zero-width step.
 */
async function ecdfComparison(client: ClickHouseClient, request: DataDriftRequest, feature: DriftFeature, stat: FeatureStats): Promise<{ dTimesSizes: number; wasserstein: number }> {
  const n1 = stat.referenceSize;
  const n2 = stat.currentSize;
  const repeated = stat.approximateDistinct * 4 < n1 + n2;
  const rowsSql = repeated
    ? `SELECT ${valueColumn} AS value, countIf(${sideColumn} = 0) AS ref, countIf(${sideColumn} = 1) AS cur FROM (${unionSql(request, feature)}) GROUP BY value`
    : `SELECT ${valueColumn} AS value, ${sideColumn} = 0 AS ref, ${sideColumn} = 1 AS cur FROM (${unionSql(request, feature)})`;
  const sql = `SELECT
      toString(max(if(next_value != value, abs(toInt128(cum_ref) * ${n2} - toInt128(cum_cur) * ${n1}), 0))) AS d_times_sizes,
      sumKahan(if(isFinite(next_value), next_value - value, 0) * abs(cum_ref / ${n1} - cum_cur / ${n2})) AS wasserstein
    FROM (
      SELECT value,
        sum(ref) OVER running AS cum_ref,
        sum(cur) OVER running AS cum_cur,
        leadInFrame(value, 1, inf) OVER (ORDER BY value ROWS BETWEEN CURRENT ROW AND 1 FOLLOWING) AS next_value
      FROM (${rowsSql})
      WINDOW running AS (ORDER BY value ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    )`;
  const [row] = await rows<{ d_times_sizes: string; wasserstein: number }>(client, sql);
  return { dTimesSizes: Number(row?.d_times_sizes ?? 0), wasserstein: Number(row?.wasserstein ?? 0) };
}

/** One bin per distinct value seen on either side, ordered by value (the Z-test needs the smallest). */
async function valueCounts(client: ClickHouseClient, request: DataDriftRequest, feature: DriftFeature): Promise<(BinCounts & { value: string })[]> {
  const sql = `SELECT toString(value) AS value, countIf(${sideColumn} = 0) AS reference, countIf(${sideColumn} = 1) AS current
    FROM (SELECT ${valueColumn} AS value, ${sideColumn} FROM (${unionSql(request, feature)}))
    GROUP BY value ORDER BY value`;
  const counted = await rows<{ value: string; reference: number; current: number }>(client, sql);
  return counted.map((row) => ({ value: row.value, reference: Number(row.reference), current: Number(row.current) }));
}

/**
 * numpy's `histogram(x, histogram_bin_edges(ref ∪ cur, "sturges"))`: equal-width bins over the
 * combined [min, max], edges min + i·((max − min)/bins) with the last edge = max; bin i holds
 * edges[i] ≤ x < edges[i+1], the last bin also x = max. min and max travel as their IEEE bits so
 * the edges are the same doubles numpy computes.
 */
async function histogram(client: ClickHouseClient, request: DataDriftRequest, feature: DriftFeature, stat: FeatureStats, integerValues: boolean): Promise<BinCounts[]> {
  const min = floatFromBits(stat.minBits!);
  const max = floatFromBits(stat.maxBits!);
  const binCount = sturgesBinCount(stat.referenceSize + stat.currentSize, min, max, integerValues);
  const first = `reinterpretAsFloat64(toUInt64('${stat.minBits}'))`;
  const last = `reinterpretAsFloat64(toUInt64('${stat.maxBits}'))`;
  const step = `((${last} - ${first}) / ${binCount})`;
  const edge = (index: string) => `(toFloat64(${index}) * ${step} + ${first})`;
  const sql = `SELECT bin, countIf(${sideColumn} = 0) AS reference, countIf(${sideColumn} = 1) AS current FROM (
      SELECT ${sideColumn},
        multiIf(
          ${valueColumn} < ${edge('guess')}, guess - 1,
          guess < ${binCount - 1} AND ${valueColumn} >= ${edge('guess + 1')}, guess + 1,
          guess) AS bin
      FROM (
        SELECT ${sideColumn}, ${valueColumn},
          least(greatest(toInt64((${valueColumn} - ${first}) * (${binCount} / (${last} - ${first}))), 0), ${binCount - 1}) AS guess
        FROM (${unionSql(request, feature)})
      )
    ) GROUP BY bin ORDER BY bin`;
  const counted = await rows<{ bin: number; reference: number; current: number }>(client, sql);
  const bins: BinCounts[] = Array.from({ length: binCount }, () => ({ reference: 0, current: 0 }));
  for (const row of counted) bins[Number(row.bin)] = { reference: Number(row.reference), current: Number(row.current) };
  return bins;
}

function floatFromBits(bits: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(bits));
  return view.getFloat64(0);
}
