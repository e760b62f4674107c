// The drift benchmark: Loopline's computeDataDrift (aggregation inside ClickHouse, chDB in this
// process) beside Evidently 0.7.23's data-drift report (pandas, in Python) on the same data, in the
// same run. 1,000,000 reference rows and 1,000,000 current rows × 10 features (6 numerical, 4
// categorical; some drifted, some not; a few missing values), generated deterministically from a
// seed inside ClickHouse, written once to Parquet, then
// - Loopline: Parquet → ClickHouse tables (load, timed apart), then computeDataDrift;
// - Evidently: Parquet → pandas (load, timed apart), then Report([DataDriftPreset()]).
// Both sides run Evidently's default method choice (for this size: Wasserstein for numerical,
// Jensen–Shannon for categorical features) and a forced KS run (numerical features only, the only
// ones KS applies to). Printed: wall times side by side, the ratio (goal ≥ 20×), and the largest
// absolute difference of the per-feature values. Printed, never gating CI.
//
//   node -r @swc-node/register bench/monitoring/drift.ts      (DRIFT_BENCH_ROWS=… for another size)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { createClickHouseClient } from '@loopline/infra';
import { computeDataDrift, type DataDriftRequest, type DriftFeature } from '../../services/monitoring/src/adapters/clickhouse/drift-sql';
import { ensureDriftPythonEnv, runDriftReference } from '../../services/monitoring/test/python/python-env';
import { driftBenchColumns, driftBenchFeatures, generateSampleSql } from './drift-data';

export interface DriftBenchRun {
  readonly method: 'auto' | 'ks';
  readonly features: number;
  readonly looplineSeconds: number;
  readonly evidentlySeconds: number;
  /** Evidently's time ÷ Loopline's. */
  readonly speedup: number;
  /** The largest |Loopline − Evidently| over the features' values. */
  readonly maxAbsDifference: number;
  /** Features whose method or drift verdict differ between the two (expected: none). */
  readonly disagreements: string[];
  readonly methods: Record<string, number>;
}

export interface DriftBenchResult {
  readonly rows: number;
  readonly looplineLoadSeconds: number;
  readonly evidentlyLoadSeconds: number;
  readonly runs: DriftBenchRun[];
}

interface EvidentlyOutput {
  cases: {
    name: string;
    loadSeconds: number;
    runs: { method: string; seconds: number; features: Record<string, { method: string; value: number; threshold: number }>; driftedShare: number }[];
  }[];
}

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

async function command(client: ClickHouseClient, query: string, settings: Record<string, string | number> = {}): Promise<void> {
  await client.command({ query, clickhouse_settings: settings });
}

export async function runDriftBench(options: { rows?: number; log?: (line: string) => void } = {}): Promise<DriftBenchResult> {
  const rows = options.rows ?? Number(process.env.DRIFT_BENCH_ROWS ?? 1_000_000);
  const log = options.log ?? ((line: string) => console.log(line));
  const folder = mkdtempSync(join(tmpdir(), 'loopline-bench-drift-'));
  const client = createClickHouseClient({ path: join(folder, 'chdb') });
  try {
    log(`drift benchmark: ${rows.toLocaleString('en')} reference rows and ${rows.toLocaleString('en')} current rows × ${driftBenchFeatures.length} features`);
    const python = await ensureDriftPythonEnv(log);

    // The data, once, as Parquet: what both sides load.
    const files = { reference: join(folder, 'reference.parquet'), current: join(folder, 'current.parquet') };
    for (const [side, drift] of [['reference', 0], ['current', 1]] as const) {
      await command(client, `INSERT INTO FUNCTION file('${files[side]}', 'Parquet') ${generateSampleSql(rows, drift, side === 'reference' ? 1 : 2)}`, { engine_file_truncate_on_insert: 1 });
    }

    // What Evidently will run, after Loopline (one side at a time, so neither slows the other).
    const numerical = driftBenchFeatures.filter((feature) => feature.kind === 'numerical').map((feature) => feature.name);
    const categorical = driftBenchFeatures.filter((feature) => feature.kind === 'categorical').map((feature) => feature.name);
    const input = join(folder, 'evidently-input.json');
    writeFileSync(
      input,
      JSON.stringify({
        engine: 'report',
        cases: [{ name: 'bench', numerical, categorical, methods: ['auto', 'ks'], referenceParquet: files.reference, currentParquet: files.current }],
      }),
    );

    // Loopline: load into MergeTree tables (timed apart), then the drift.
    const loadStart = process.hrtime.bigint();
    await command(client, 'CREATE DATABASE IF NOT EXISTS drift_bench');
    for (const side of ['reference', 'current'] as const) {
      await command(client, `CREATE OR REPLACE TABLE drift_bench.${side} (${driftBenchColumns}) ENGINE = MergeTree ORDER BY tuple()`);
      await command(client, `INSERT INTO drift_bench.${side} SELECT * FROM file('${files[side]}', 'Parquet')`);
    }
    const looplineLoadSeconds = seconds(loadStart);
    log(`loopline: loaded both Parquet files into ClickHouse in ${looplineLoadSeconds.toFixed(2)} s`);

    const looplineRuns = new Map<'auto' | 'ks', { seconds: number; features: Map<string, { method: string; value: number; drifted: boolean }> }>();
    for (const method of ['auto', 'ks'] as const) {
      const features: DriftFeature[] = method === 'ks' ? driftBenchFeatures.filter((feature) => feature.kind === 'numerical') : [...driftBenchFeatures];
      const request: DataDriftRequest = { reference: 'SELECT * FROM drift_bench.reference', current: 'SELECT * FROM drift_bench.current', features, method };
      const start = process.hrtime.bigint();
      const result = await computeDataDrift(client, request);
      const elapsed = seconds(start);
      looplineRuns.set(method, { seconds: elapsed, features: new Map(result.features.map((feature) => [feature.feature, feature])) });
      log(`loopline: ${method} drift of ${features.length} features in ${elapsed.toFixed(2)} s (${result.features.filter((feature) => feature.drifted).length} drifted)`);
    }

    log('evidently: loading the same Parquet files into pandas and running its data-drift report (this takes a while)');
    const evidently = (await runDriftReference<EvidentlyOutput>(python, input)).cases[0]!;

    const runs: DriftBenchRun[] = [];
    for (const method of ['auto', 'ks'] as const) {
      const ours = looplineRuns.get(method)!;
      const theirs = evidently.runs.find((run) => run.method === method)!;
      let maxAbsDifference = 0;
      const disagreements: string[] = [];
      const methods: Record<string, number> = {};
      for (const [feature, result] of ours.features) {
        const reference = theirs.features[feature];
        if (!reference) {
          disagreements.push(`${feature}: not in Evidently's report`);
          continue;
        }
        methods[result.method] = (methods[result.method] ?? 0) + 1;
        maxAbsDifference = Math.max(maxAbsDifference, Math.abs(result.value - reference.value));
        if (result.method !== reference.method) disagreements.push(`${feature}: method ${result.method} vs ${reference.method}`);
      }
      runs.push({
        method,
        features: ours.features.size,
        looplineSeconds: ours.seconds,
        evidentlySeconds: theirs.seconds,
        speedup: theirs.seconds / ours.seconds,
        maxAbsDifference,
        disagreements,
        methods,
      });
    }
    const result: DriftBenchResult = { rows, looplineLoadSeconds, evidentlyLoadSeconds: evidently.loadSeconds, runs };
    printResult(result, log);
    return result;
  } finally {
    await client.close();
    if (!process.env.BENCH_KEEP) rmSync(folder, { recursive: true, force: true });
  }
}

function printResult(result: DriftBenchResult, log: (line: string) => void): void {
  log('');
  log(`drift, ${result.rows.toLocaleString('en')} + ${result.rows.toLocaleString('en')} rows    loopline (ClickHouse)   evidently 0.7.23   evidently ÷ loopline   max |Δ value|`);
  log(`load (Parquet →)                        ${result.looplineLoadSeconds.toFixed(2).padStart(8)} s            ${result.evidentlyLoadSeconds.toFixed(2).padStart(8)} s`);
  for (const run of result.runs) {
    const label = run.method === 'auto' ? `default methods (${Object.entries(run.methods).map(([method, count]) => `${count} ${method}`).join(', ')})` : `KS (${run.features} numerical features)`;
    log(
      `${label.padEnd(40)}${run.looplineSeconds.toFixed(2).padStart(8)} s            ${run.evidentlySeconds.toFixed(2).padStart(8)} s   ${`${run.speedup.toFixed(1)}×`.padStart(10)}   ${run.maxAbsDifference.toExponential(2).padStart(12)}${run.speedup >= 20 ? '' : '   (goal ≥ 20×)'}`,
    );
    for (const disagreement of run.disagreements) log(`  disagreement: ${disagreement}`);
  }
}

if (require.main === module) {
  runDriftBench().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : error);
      process.exit(1);
    },
  );
}
