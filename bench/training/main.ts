/**
 * Training benchmark (`npm run bench:training`): the built-in histogram GBDT against LightGBM
 * (Python, pip; `pip install -r bench/training/requirements.txt`) on a flights training set of 1M
 * rows built with chDB from `flights-3m.parquet` of the vega-datasets package: features hour,
 * weekday, distance, origin and destination (integer codes by name), label `delay > 15`,
 * time-based split (the latest 20% of flights held out). Same leaves, depth, learning rate, rounds,
 * min data in leaf and bins on both sides; both sides' holdout probabilities are scored by the same
 * code (@loopline/ml). Prints training time (wall and CPU), AUC and log loss side by side, and the
 * ratios against the goals (AUC within 0.005, time within 3×). Nothing is asserted; CI never runs
 * it (CONVENTIONS.md).
 *
 * Environment: BENCH_ROWS (default 1000000), BENCH_ROUNDS (100), BENCH_LEAVES (63), BENCH_DEPTH (8),
 * BENCH_LEARNING_RATE (0.1), BENCH_REPEATS (1; the median is reported), BENCH_THREADS (2: our
 * histogram threads), BENCH_LIGHTGBM_THREADS (2).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createClickHouseClient } from '@loopline/infra';
import { binaryClassificationMetrics, createDataset, encodeFeatures, fitFeatureEncoding, numericColumn, parseGbdtParams, trainGbdt, type Dataset } from '@loopline/ml';

const root = resolve(__dirname, '..', '..');
const flightsFile = join(root, 'node_modules', 'vega-datasets', 'data', 'flights-3m.parquet');
const features = ['hour', 'weekday', 'distance', 'origin_code', 'destination_code'];
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const rows = env('BENCH_ROWS', 1_000_000);
const rounds = env('BENCH_ROUNDS', 100);
const leaves = env('BENCH_LEAVES', 63);
const depth = env('BENCH_DEPTH', 8);
const learningRate = env('BENCH_LEARNING_RATE', 0.1);
const repeats = env('BENCH_REPEATS', 1);
const threads = env('BENCH_THREADS', 2);
const lightgbmThreads = env('BENCH_LIGHTGBM_THREADS', 2);
const minDataInLeaf = 20;
const maxBins = 255;

interface Result {
  readonly seconds: number;
  readonly cpu: number;
  readonly auc: number;
  readonly logLoss: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function buildTrainingSet(folder: string): Promise<{ path: string; dataset: Dataset; holdout: Uint8Array; label: Float64Array }> {
  const client = createClickHouseClient({ path: join(folder, 'chdb') });
  const path = join(folder, 'flights-training-set.parquet');
  try {
    const started = Date.now();
    await client.command({
      query: `
        INSERT INTO FUNCTION file('${path}', Parquet)
        SELECT
          toHour(date) AS hour,
          toDayOfWeek(date) AS weekday,
          toFloat64(distance) AS distance,
          dense_rank() OVER (ORDER BY origin) AS origin_code,
          dense_rank() OVER (ORDER BY destination) AS destination_code,
          toUInt8(delay > 15) AS label,
          toUInt8(row_number() OVER (ORDER BY date, origin, destination, delay) > ${Math.round(rows * 0.8)}) AS holdout
        FROM (SELECT * FROM file('${flightsFile}', Parquet) WHERE date IS NOT NULL AND delay IS NOT NULL ORDER BY date, origin, destination, delay LIMIT ${rows})
        ORDER BY date, origin, destination, delay`,
      clickhouse_settings: { engine_file_truncate_on_insert: 1 },
    });
    const text = await (
      await client.query({ query: `SELECT ${[...features, 'label', 'holdout'].map((name) => `toFloat64(${name})`).join(', ')} FROM file('${path}', Parquet)`, format: 'JSONCompactColumns' as unknown as 'JSON' })
    ).text();
    const columns = JSON.parse(text) as number[][];
    const dataset = createDataset(features.map((name, index) => [name, numericColumn(columns[index]!)] as const));
    console.log(`training set: ${dataset.rowCount.toLocaleString('en')} rows built with chDB in ${((Date.now() - started) / 1000).toFixed(1)} s (${path})`);
    return { path, dataset, label: Float64Array.from(columns[features.length]!), holdout: Uint8Array.from(columns[features.length + 1]!) };
  } finally {
    await client.close();
  }
}

function scored(label: Float64Array, holdout: Uint8Array, probabilities: ArrayLike<number>) {
  const holdoutLabels = Float64Array.from(label.filter((_, index) => holdout[index] === 1));
  return binaryClassificationMetrics(holdoutLabels, probabilities);
}

function summary(results: readonly Result[]): Result {
  return { seconds: median(results.map((result) => result.seconds)), cpu: median(results.map((result) => result.cpu)), auc: results[0]!.auc, logLoss: results[0]!.logLoss };
}

async function main(): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'loopline-bench-training-'));
  try {
    console.log(`machine: ${cpus().length} cores, load average ${loadavg().map((value) => value.toFixed(2)).join(' ')} (other work on the machine skews wall times; CPU times are reported too)`);
    const { path, dataset, holdout, label } = await buildTrainingSet(folder);
    const trainRows = Uint32Array.from({ length: dataset.rowCount }, (_, index) => index).filter((index) => holdout[index] === 0);
    const holdoutRows = Uint32Array.from({ length: dataset.rowCount }, (_, index) => index).filter((index) => holdout[index] === 1);
    const encoding = fitFeatureEncoding(dataset, features, label);
    const columns = encodeFeatures(dataset, encoding);
    const params = parseGbdtParams({ rounds, numLeaves: leaves, maxDepth: depth, learningRate, minDataInLeaf, maxBins });

    const ours: Result[] = [];
    for (let repeat = 0; repeat < repeats; repeat += 1) {
      const cpuStart = process.cpuUsage();
      const started = performance.now();
      const model = trainGbdt({ task: 'binary', features: encoding.features, columns, labels: label, rows: trainRows, params, seed: 1, threads });
      const seconds = (performance.now() - started) / 1000;
      const cpuUsed = process.cpuUsage(cpuStart);
      const metrics = scored(label, holdout, model.predict(columns.map((column) => Float32Array.from(holdoutRows, (row) => column[row]!))));
      ours.push({ seconds, cpu: (cpuUsed.user + cpuUsed.system) / 1e6, auc: metrics.auc, logLoss: metrics.log_loss });
    }

    const theirs: (Result & { version: string })[] = [];
    const lightgbmParams = { features, num_iterations: rounds, num_leaves: leaves, max_depth: depth, learning_rate: learningRate, min_data_in_leaf: minDataInLeaf, max_bin: maxBins, lambda_l2: 0, num_threads: lightgbmThreads, seed: 1, deterministic: true };
    for (let repeat = 0; repeat < repeats; repeat += 1) {
      const predictionsPath = join(folder, 'lightgbm-predictions.f64');
      const run = spawnSync('python3', [join(__dirname, 'lightgbm_peer.py'), path, predictionsPath, JSON.stringify(lightgbmParams)], { encoding: 'utf8' });
      if (run.status !== 0) {
        console.log(`LightGBM peer failed (pip install -r bench/training/requirements.txt?): ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`);
        break;
      }
      const report = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { seconds: number; cpu_seconds: number; lightgbm: string };
      const buffer = readFileSync(predictionsPath);
      const metrics = scored(label, holdout, new Float64Array(buffer.buffer, buffer.byteOffset, buffer.byteLength / 8));
      theirs.push({ seconds: report.seconds, cpu: report.cpu_seconds, auc: metrics.auc, logLoss: metrics.log_loss, version: report.lightgbm });
    }

    const a = summary(ours);
    console.log(
      `\nflights, ${trainRows.length.toLocaleString('en')} training rows / ${holdoutRows.length.toLocaleString('en')} holdout rows (time split); ${rounds} rounds, ${leaves} leaves, depth ${depth}, learning rate ${learningRate}, min data in leaf ${minDataInLeaf}, ${maxBins} bins; median of ${repeats}\n`,
    );
    console.log('| trainer | threads | training wall s | training CPU s | holdout AUC | holdout log loss |');
    console.log('| --- | --- | --- | --- | --- | --- |');
    console.log(`| Loopline built-in GBDT (@loopline/ml) | ${threads} | ${a.seconds.toFixed(2)} | ${a.cpu.toFixed(2)} | ${a.auc.toFixed(4)} | ${a.logLoss.toFixed(4)} |`);
    if (theirs.length > 0) {
      const b = summary(theirs);
      console.log(`| LightGBM ${theirs[0]!.version} | ${lightgbmThreads} | ${b.seconds.toFixed(2)} | ${b.cpu.toFixed(2)} | ${b.auc.toFixed(4)} | ${b.logLoss.toFixed(4)} |`);
      console.log(`\nAUC difference (LightGBM − ours): ${(b.auc - a.auc).toFixed(4)} (goal ≤ 0.005)`);
      console.log(`time ratio (ours / LightGBM): wall ${(a.seconds / b.seconds).toFixed(2)}×, CPU ${(a.cpu / b.cpu).toFixed(2)}× (goal ≤ 3×)`);
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
