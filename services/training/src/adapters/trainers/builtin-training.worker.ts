// A worker thread that runs one built-in training (split, encode, train, evaluate, export,
// profile) off the service's event loop, and posts the result back.
import { parentPort, workerData } from 'node:worker_threads';
import { trainAndEvaluate, type BuiltinTrainerName, type Dataset, type SplitSpec } from '@loopline/ml';

interface WorkerInput {
  readonly dataset: Dataset;
  readonly trainer: BuiltinTrainerName;
  readonly label: string;
  readonly features: readonly string[];
  readonly split: SplitSpec;
  readonly params: Readonly<Record<string, unknown>>;
  readonly seed: number;
  readonly threshold: number;
  readonly threads: number;
}

const input = workerData as WorkerInput;
try {
  const started = performance.now();
  const outcome = trainAndEvaluate({ ...input, dataset: { rowCount: input.dataset.rowCount, columns: new Map(input.dataset.columns) } });
  parentPort!.postMessage({
    ok: true,
    result: {
      onnx: outcome.onnx,
      metrics: outcome.metrics,
      curves: outcome.curves,
      featureImportance: outcome.featureImportance,
      profile: outcome.profile,
      trainRows: outcome.trainRows,
      holdoutRows: outcome.holdoutRows,
      durationMs: performance.now() - started,
    },
  });
} catch (error) {
  parentPort!.postMessage({ ok: false, name: error instanceof Error ? error.name : 'Error', message: error instanceof Error ? error.message : String(error) });
}
