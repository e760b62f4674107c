// Runs an exported model in ONNX Runtime (the real thing, CPU, one thread) on dataset rows, feeding
// each feature as its own [batch, 1] input the way serving does.
import * as ort from 'onnxruntime-node';
import { getColumn, type Dataset } from '../src';

export async function runOnnx(bytes: Uint8Array, dataset: Dataset, features: readonly string[], rows: ArrayLike<number>): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of features) {
      const column = getColumn(dataset, name);
      if (column.kind === 'numeric') feeds[name] = new ort.Tensor('float32', Float32Array.from(rows, (row) => column.values[row]!), [rows.length, 1]);
      else feeds[name] = new ort.Tensor('string', Array.from(rows, (row) => column.values[row] ?? ''), [rows.length, 1]);
    }
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}
