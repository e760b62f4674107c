/**
 * Batch inference benchmark (`node -r @swc-node/register bench/serving/batch.ts`): serving's batch
 * predictions over the flights data with the GBDT flight model (the platform's built-in trainer,
 * 100 trees, one ONNX input per feature), measured in this process through the real
 * `BatchPredictions` on its real adapters — chDB streaming the Parquet in chunks, ONNX Runtime,
 * the local content-addressed artifact store — without the HTTP hop (a submit and a poll). The
 * model comes from a local file instead of the registry. Figures only.
 *
 * Knobs: BATCH_ROWS (1000000), BATCH_TRAIN_ROWS (100000), BATCH_CHUNK_ROWS (16384),
 * BATCH_INTRA_OP_THREADS (1).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { LocalArtifactStore, receivedFileOf, UploadArea } from '@loopline/artifacts';
import { categoricalColumn, createDataset, numericColumn, trainAndEvaluate } from '@loopline/ml';
import pino from 'pino';
import { BatchPredictions } from '../../services/serving/src/application/batch/batch-predictions';
import type { ModelSource } from '../../services/serving/src/application/ports';
import { BatchInputs } from '../../services/serving/src/adapters/batch/batch-inputs';
import { ChdbParquetEngine } from '../../services/serving/src/adapters/batch/chdb-parquet-engine';
import { OnnxRuntime } from '../../services/serving/src/adapters/onnx/onnx-runtime';

const root = resolve(__dirname, '..', '..');
const rows = Number(process.env.BATCH_ROWS ?? 1_000_000);
const trainRows = Number(process.env.BATCH_TRAIN_ROWS ?? 100_000);
const chunkRows = Number(process.env.BATCH_CHUNK_ROWS ?? 16_384);
const intraOpThreads = Number(process.env.BATCH_INTRA_OP_THREADS ?? 1);
const features = ['distance', 'hour', 'weekday', 'origin', 'destination'];

async function main(): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'loopline-batch-bench-'));
  try {
    console.log(`batch benchmark: ${rows} rows, chunks of ${chunkRows}, ${cpus().length} cores, intra-op threads ${intraOpThreads}`);
    const written = spawnSync(process.execPath, ['-r', '@swc-node/register', join(__dirname, 'batch-data.ts'), folder, String(rows), String(trainRows)], { cwd: root, encoding: 'utf8' });
    if (written.status !== 0) throw new Error(written.stderr);

    const started = Date.now();
    const train = readFileSync(join(folder, 'train.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, number | string>);
    const dataset = createDataset([
      ['distance', numericColumn(train.map((row) => Number(row.distance)))],
      ['hour', numericColumn(train.map((row) => Number(row.hour)))],
      ['weekday', numericColumn(train.map((row) => Number(row.weekday)))],
      ['origin', categoricalColumn(train.map((row) => String(row.origin)))],
      ['destination', categoricalColumn(train.map((row) => String(row.destination)))],
      ['label', numericColumn(train.map((row) => Number(row.label)))],
    ]);
    const trained = trainAndEvaluate({ dataset, label: 'label', features, split: { kind: 'random', holdoutFraction: 0.2, seed: 1 }, trainer: 'gbdt-classifier', params: { rounds: 100, numLeaves: 31 }, seed: 1 });
    const onnx = Buffer.from(trained.onnx);
    console.log(`flight model: GBDT, 100 trees, inputs ${features.join(', ')}; trained on ${trainRows} rows in ${((Date.now() - started) / 1000).toFixed(1)} s (holdout AUC ${trained.metrics.roc_auc?.toFixed(4) ?? trained.metrics.auc?.toFixed(4)})`);

    const sha256 = createHash('sha256').update(onnx).digest('hex');
    const source: ModelSource = {
      listModels: async () => [{ name: 'flights', latestVersion: 1, aliases: { champion: 1 } }],
      getVersion: async (name, version) => (name === 'flights' && version === 1 ? { name, version, artifact: { sha256, sizeBytes: onnx.length }, signature: { inputs: [], outputs: [] }, status: 'READY' } : undefined),
      downloadArtifact: async () => onnx,
    };
    const artifactRoot = join(folder, 'artifacts');
    const store = new LocalArtifactStore(artifactRoot, 'serving');
    const uploads = new UploadArea(artifactRoot);
    const inputFile = await uploads.temporaryPath();
    spawnSync('cp', [join(folder, 'flights.parquet'), inputFile]);
    const input = await store.put(await receivedFileOf(inputFile));
    const logger = pino({ level: 'warn' });
    const engine = new ChdbParquetEngine(join(folder, 'chdb'));
    const batch = new BatchPredictions({
      source,
      servedVersion: () => undefined,
      runtime: new OnnxRuntime({ executionProvider: 'cpu', cudaDeviceId: 0, intraOpThreads, logger }),
      inputs: new BatchInputs({ featureStoreUrl: 'http://127.0.0.1:1', ingestionUrl: 'http://127.0.0.1:1', store, localStore: store, uploads, maxBytes: 2 ** 40 }),
      engine,
      store: { temporaryPath: () => uploads.temporaryPath(), discard: (path) => uploads.discard({ path }), store: async (path) => store.put(await receivedFileOf(path)), read: (blob) => store.read(blob) },
      logger,
      defaultChunkRows: chunkRows,
      maxChunkRows: 1_000_000,
      maxJobs: 10,
      now: Date.now,
      newId: randomUUID,
    });

    const t0 = Date.now();
    const job = await batch.submit({ model: 'flights', input: { kind: 'artifact', artifactUri: input.uri }, chunkRows });
    const phases: Record<string, number> = {};
    let last = job.phase;
    let lastAt = t0;
    while (job.status === 'queued' || job.status === 'running') {
      await new Promise((resolvePromise) => setTimeout(resolvePromise, 20));
      if (job.phase !== last) {
        phases[last] = (phases[last] ?? 0) + Date.now() - lastAt;
        last = job.phase;
        lastAt = Date.now();
      }
    }
    phases[last] = (phases[last] ?? 0) + Date.now() - lastAt;
    const total = (Date.now() - t0) / 1000;
    engine.close();
    if (job.status !== 'succeeded') throw new Error(`the job failed: ${JSON.stringify(job.error)}`);
    const scoring = (phases.scoring ?? 0) / 1000;
    console.log(`\n| rows | end to end | rows/s end to end | scoring (read + model + write lines) | rows/s scoring | writing Parquet | storing | output |`);
    console.log(`| --- | --- | --- | --- | --- | --- | --- | --- |`);
    console.log(
      `| ${job.rowsDone} | ${total.toFixed(2)} s | ${Math.round(job.rowsDone / total)} | ${scoring.toFixed(2)} s | ${Math.round(job.rowsDone / scoring)} | ${((phases.writing ?? 0) / 1000).toFixed(2)} s | ${((phases.storing ?? 0) / 1000).toFixed(2)} s | ${(job.output!.sizeBytes / 1e6).toFixed(1)} MB |`,
    );
    console.log(`\ngoal 50,000 rows/s: ${job.rowsDone / total >= 50_000 ? 'met' : 'missed'} end to end (${Math.round(job.rowsDone / total)} rows/s)`);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
