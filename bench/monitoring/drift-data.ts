// The drift benchmark's data, generated inside ClickHouse from the row number and a seed (so every
// run and both engines see the same values): 6 numerical and 4 categorical features, where the
// current sample (drift = 1) moves some of them and leaves the others alone.
import type { DriftFeature } from '../../services/monitoring/src/adapters/clickhouse/drift-sql';

export const driftBenchFeatures: readonly DriftFeature[] = [
  { name: 'amount', kind: 'numerical' }, // log-normal, wider in the current sample (drifts)
  { name: 'latency', kind: 'numerical' }, // normal, shifted by 0.15 σ (drifts), 2% missing
  { name: 'score', kind: 'numerical' }, // normal, unchanged
  { name: 'rating', kind: 'numerical' }, // one decimal: many ties, shifted a little
  { name: 'visits', kind: 'numerical' }, // an integer count, unchanged
  { name: 'ratio', kind: 'numerical' }, // uniform, unchanged
  { name: 'country', kind: 'categorical' }, // 10 categories, unchanged
  { name: 'channel', kind: 'categorical' }, // 8 categories, reweighted (drifts)
  { name: 'premium', kind: 'categorical' }, // yes/no, a little more yes
  { name: 'merchant', kind: 'categorical' }, // 500 categories, unchanged
];

export const driftBenchColumns =
  'amount Float64, latency Nullable(Float64), score Float64, rating Float64, visits Int64, ratio Float64, country String, channel String, premium String, merchant String';

/** A uniform draw in (0, 1) from the row number, the sample's seed and a stream number. */
function uniform(seed: number, stream: number): string {
  return `((bitShiftRight(cityHash64(number, ${seed}, ${stream}), 11) + 0.5) / 9007199254740992)`;
}

/** A standard normal draw (Box–Muller over two streams). */
function normal(seed: number, stream: number): string {
  return `(sqrt(-2 * log(${uniform(seed, stream)})) * cos(2 * pi() * ${uniform(seed, stream + 1)}))`;
}

/** SELECT of one sample of `rows` rows; `drift` 0 for the reference, 1 for the current window. */
export function generateSampleSql(rows: number, drift: 0 | 1, seed: number): string {
  return `SELECT
      exp(${normal(seed, 1)} * ${0.5 * (1 + 0.3 * drift)} + 3) AS amount,
      if(${uniform(seed, 3)} < 0.02, NULL, ${normal(seed, 4)} * 20 + 120 + ${0.15 * 20 * drift}) AS latency,
      ${normal(seed, 6)} AS score,
      round(${normal(seed, 8)} * 1.2 + 3.5 + ${0.08 * drift}, 1) AS rating,
      toInt64(floor(-log(${uniform(seed, 10)}) * 8)) AS visits,
      ${uniform(seed, 11)} * 100 AS ratio,
      concat('country_', toString(toUInt32(floor(pow(${uniform(seed, 12)}, 2) * 10)))) AS country,
      concat('channel_', toString(toUInt32(floor(pow(${uniform(seed, 13)}, ${1 + 0.6 * drift}) * 8)))) AS channel,
      if(${uniform(seed, 14)} < ${0.3 + 0.02 * drift}, 'yes', 'no') AS premium,
      concat('merchant_', toString(cityHash64(number, ${seed}, 15) % 500)) AS merchant
    FROM numbers(${rows})`;
}
