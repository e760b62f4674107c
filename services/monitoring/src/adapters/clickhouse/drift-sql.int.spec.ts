/**
 * computeDataDrift against the real thing: seeded samples are loaded into ClickHouse (chDB, in
 * this process) and also handed to Python, where Evidently 0.7.23's data-drift report and scipy's
 * ks_2samp compute the reference values (services/monitoring/test/python/drift_reference.py).
 * Every feature must get Evidently's method, and the same value: p-values (KS, χ², Z) to 1e-9 —
 * KS also against scipy directly — and distances (Wasserstein, Jensen–Shannon, PSI) to 1e-6.
 *
 * The cases cover both sides of every switch: a reference of ≤ 1000 rows (KS / χ² / Z) and one
 * above (Wasserstein / Jensen–Shannon), KS exact with equal and unequal sizes (≤ 10,000 values)
 * and asymptotic (above), numerical features binned by Sturges (> 20 distinct reference values)
 * and by value, ties, integer columns, categories only one side has, and missing values.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ClickHouseClient } from '@clickhouse/client';
import { createClickHouseClient } from '@loopline/infra';
import { Prng } from '@loopline/ml';
import { testInfra, uniqueName } from '@loopline/testing';
import { ensureDriftPythonEnv, runDriftReference } from '../../../test/python/python-env';
import { methodApplies } from '../../domain/drift/drift-methods';
import { computeDataDrift, type DataDriftRequest, type DriftFeature } from './drift-sql';

type Value = number | string | null;
type Columns = Record<string, Value[]>;

interface DriftCase {
  readonly name: string;
  readonly reference: Columns;
  readonly current: Columns;
  readonly methods: NonNullable<DataDriftRequest['method']>[];
}

interface ReferenceRun {
  method: string;
  features: Record<string, { method: string; value: number; threshold: number }>;
  driftedShare: number;
  scipyKs: Record<string, { pValue: number; statistic: number }>;
}

const features: DriftFeature[] = [
  { name: 'shifted', kind: 'numerical' },
  { name: 'stable', kind: 'numerical' },
  { name: 'rounded', kind: 'numerical' },
  { name: 'visits', kind: 'numerical' },
  { name: 'level', kind: 'numerical' },
  { name: 'flag', kind: 'numerical' },
  { name: 'color', kind: 'categorical' },
  { name: 'segment', kind: 'categorical' },
];
const numerical = features.filter((feature) => feature.kind === 'numerical').map((feature) => feature.name);
const categorical = features.filter((feature) => feature.kind === 'categorical').map((feature) => feature.name);
const integerColumns = ['visits'];
const columnTypes: Record<string, string> = {
  shifted: 'Nullable(Float64)',
  stable: 'Float64',
  rounded: 'Float64',
  visits: 'Int64',
  level: 'Float64',
  flag: 'Float64',
  color: 'Nullable(String)',
  segment: 'String',
};

function pick<T>(random: Prng, values: readonly T[], weights: readonly number[]): T {
  const total = weights.reduce((a, b) => a + b, 0);
  let u = random.nextFloat() * total;
  for (let i = 0; i < values.length; i += 1) {
    u -= weights[i]!;
    if (u < 0) return values[i]!;
  }
  return values[values.length - 1]!;
}

/** One sample; `drift` moves every distribution a little (0 = the reference's distributions). */
function sample(random: Prng, rows: number, drift: number): Columns {
  const columns: Columns = Object.fromEntries(features.map((feature) => [feature.name, []]));
  const colors = ['red', 'green', 'blue', 'cyan', 'amber', 'black', 'violet'];
  for (let row = 0; row < rows; row += 1) {
    columns.shifted!.push(random.nextFloat() < 0.03 ? null : random.nextGaussian() * (1 + drift * 0.4) + drift);
    columns.stable!.push(random.nextGaussian() * 2 + 10);
    columns.rounded!.push(Math.round((random.nextGaussian() * 1.5 + drift * 0.5) * 10) / 10);
    columns.visits!.push(Math.floor(-Math.log(1 - random.nextFloat()) * (8 + drift * 4)));
    columns.level!.push(pick(random, [1, 2, 3, 5], [4, 3, 2, 1 + drift * 2]));
    columns.flag!.push(random.nextFloat() < 0.3 + drift * 0.05 ? 1 : 0);
    columns.color!.push(random.nextFloat() < 0.02 ? null : pick(random, colors, [5, 4, 3, 2, 1, 1, drift > 0 ? 0.5 : 0]));
    columns.segment!.push(random.nextFloat() < 0.5 + drift * 0.06 ? 'retail' : 'business');
  }
  return columns;
}

function driftCase(name: string, seed: number, referenceRows: number, currentRows: number, methods: DriftCase['methods']): DriftCase {
  const random = new Prng(seed);
  return { name, reference: sample(random, referenceRows, 0), current: sample(random, currentRows, 1), methods };
}

const cases: DriftCase[] = [
  // Reference ≤ 1000: Evidently's statistical tests; KS exact with unequal sizes.
  driftCase('small', 11, 700, 450, ['auto', 'ks', 'chisquare', 'z', 'psi', 'jensenshannon', 'wasserstein']),
  // KS exact with equal sizes (scipy's other exact path).
  driftCase('small_equal', 12, 400, 400, ['auto', 'ks']),
  // Reference > 1000 and more than 10,000 values: Evidently's distances; KS asymptotic; Sturges bins.
  driftCase('large', 13, 20_000, 12_000, ['auto', 'ks', 'psi', 'jensenshannon', 'wasserstein', 'z']),
];

const pValueTolerance = 1e-9;
const distanceTolerance = 1e-6;

async function load(client: ClickHouseClient, table: string, columns: Columns): Promise<void> {
  await client.command({
    query: `CREATE TABLE ${table} (${features.map((feature) => `${feature.name} ${columnTypes[feature.name]}`).join(', ')}) ENGINE = MergeTree ORDER BY tuple()`,
  });
  const rows = columns.shifted!.map((_, index) => Object.fromEntries(features.map((feature) => [feature.name, columns[feature.name]![index]])));
  await client.insert({ table, values: rows, format: 'JSONEachRow', clickhouse_settings: { precise_float_parsing: 1 } });
}

describe('computeDataDrift', () => {
  let client: ClickHouseClient;
  let database: string;
  const expected = new Map<string, ReferenceRun[]>();

  before(async () => {
    const folder = join(testInfra().dataDir, uniqueName('drift'));
    mkdirSync(folder, { recursive: true });
    const python = await ensureDriftPythonEnv();
    const input = join(folder, 'drift-input.json');
    writeFileSync(
      input,
      JSON.stringify({
        cases: cases.map((driftCase) => ({ ...driftCase, numerical, categorical, integer: integerColumns })),
      }),
    );
    // Python (Evidently's import alone takes seconds) runs while ClickHouse loads the same data.
    const reference = runDriftReference<{ cases: { name: string; runs: ReferenceRun[] }[] }>(python, input);
    reference.catch(() => undefined);
    client = createClickHouseClient({ path: join(folder, 'chdb') });
    database = uniqueName('drift');
    await client.command({ query: `CREATE DATABASE ${database}` });
    for (const driftCase of cases) {
      await load(client, `${database}.${driftCase.name}_reference`, driftCase.reference);
      await load(client, `${database}.${driftCase.name}_current`, driftCase.current);
    }
    for (const computed of (await reference).cases) expected.set(computed.name, computed.runs);
  });

  after(async () => {
    await client?.close();
  });

  for (const driftCase of cases) {
    describe(`on the ${driftCase.name} case (${driftCase.reference.shifted!.length} reference rows, ${driftCase.current.shifted!.length} current rows)`, () => {
      for (const method of driftCase.methods) {
        it(`agrees with Evidently${method === 'auto' || method === 'ks' ? ' and scipy' : ''} with method ${method}`, async () => {
          const run = expected.get(driftCase.name)?.find((candidate) => candidate.method === method);
          assert.ok(run, `the Python reference has no run for ${driftCase.name}/${method}`);
          const requested = features.filter((feature) => method === 'auto' || methodApplies(method, feature.kind));
          const result = await computeDataDrift(client, {
            reference: `SELECT * FROM ${database}.${driftCase.name}_reference`,
            current: `SELECT * FROM ${database}.${driftCase.name}_current`,
            features: requested,
            method,
          });
          assert.deepEqual(
            result.features.map((feature) => feature.feature),
            requested.map((feature) => feature.name),
          );
          for (const feature of result.features) {
            const evidently: ReferenceRun['features'][string] | undefined = run.features[feature.feature];
            assert.ok(evidently, `Evidently reported nothing for ${feature.feature}`);
            assert.equal(feature.method, evidently.method, `${feature.feature}: method`);
            const pValue = feature.method === 'ks' || feature.method === 'chisquare' || feature.method === 'z';
            const tolerance = pValue ? pValueTolerance : distanceTolerance;
            assert.ok(
              Math.abs(feature.value - evidently.value) <= tolerance,
              `${feature.feature} (${feature.method}): Loopline ${feature.value}, Evidently ${evidently.value}, difference ${Math.abs(feature.value - evidently.value)} > ${tolerance}`,
            );
            assert.equal(feature.threshold, evidently.threshold, `${feature.feature}: threshold`);
            const missing = driftCase.reference[feature.feature]!.filter((value) => value === null).length;
            assert.equal(feature.referenceSize, driftCase.reference[feature.feature]!.length - missing, `${feature.feature}: reference size without missing values`);
            const scipy = run.scipyKs[feature.feature];
            if (feature.method === 'ks') {
              assert.ok(scipy, `scipy's ks_2samp was not run for ${feature.feature}`);
              assert.ok(Math.abs(feature.value - scipy.pValue) <= pValueTolerance, `${feature.feature}: Loopline ${feature.value}, scipy ${scipy.pValue}`);
            }
          }
          assert.equal(result.driftedShare, run.driftedShare, 'share of drifted features');
          assert.equal(result.drifted, run.driftedShare >= 0.5);
        });
      }
    });
  }

  it('drifts on the shifted features and not on the stable one', async () => {
    const result = await computeDataDrift(client, {
      reference: `SELECT * FROM ${database}.large_reference`,
      current: `SELECT * FROM ${database}.large_current`,
      features,
    });
    const drifted = Object.fromEntries(result.features.map((feature) => [feature.feature, feature.drifted]));
    assert.equal(drifted.stable, false);
    assert.equal(drifted.shifted, true);
    assert.equal(drifted.color, true);
  });

  it('names a feature the queries do not have', async () => {
    await assert.rejects(
      computeDataDrift(client, {
        reference: `SELECT * FROM ${database}.small_reference`,
        current: `SELECT * FROM ${database}.small_current`,
        features: [{ name: 'altitude', kind: 'numerical' }],
      }),
      /reference query has no column\(s\) altitude/,
    );
  });

  it('refuses a numerical-only method for a categorical feature', async () => {
    await assert.rejects(
      computeDataDrift(client, {
        reference: `SELECT * FROM ${database}.small_reference`,
        current: `SELECT * FROM ${database}.small_current`,
        features: [{ name: 'color', kind: 'categorical' }],
        method: 'ks',
      }),
      /"ks" needs a numerical feature, but "color" is categorical/,
    );
  });

  it('refuses a feature with no value left in the current window', async () => {
    await assert.rejects(
      computeDataDrift(client, {
        reference: `SELECT * FROM ${database}.small_reference`,
        current: `SELECT * FROM ${database}.small_current WHERE shifted IS NULL`,
        features: [{ name: 'shifted', kind: 'numerical' }],
      }),
      /"shifted" has no non-missing value in the current data/,
    );
  });
});
