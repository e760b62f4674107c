import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { ModelLoadError } from '../../application/serving-error';
import { echoModel, markerModel } from '../../../test/onnx-models';
import { OnnxRuntime } from './onnx-runtime';

// Real parts: ONNX Runtime (the CPU build installed with onnxruntime-node, no CUDA files).

function capturingLogger() {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as { level: number; msg: string }) });
  return { logger, lines };
}

describe('OnnxRuntime', () => {
  it('reads the signature of a model, variable dimensions as -1', async () => {
    const model = await new OnnxRuntime({ executionProvider: 'cpu', cudaDeviceId: 0, intraOpThreads: 1, logger: pino({ level: 'silent' }) }).load(echoModel());
    assert.deepEqual(model.signature.inputs.map((spec) => `${spec.name}:${spec.datatype}:${spec.shape.join('x')}`), ['flag:BOOL:-1x1', 'count:INT32:-1x1', 'name:BYTES:-1x1', 'wide:FP64:-1x1', 'big:INT64:-1x1', 'half:FP16:-1x1']);
    await model.release();
  });

  it('refuses bytes that are not a model with INVALID_MODEL', async () => {
    const runtime = new OnnxRuntime({ executionProvider: 'cpu', cudaDeviceId: 0, intraOpThreads: 1, logger: pino({ level: 'silent' }) });
    await assert.rejects(runtime.load(markerModel(1).subarray(0, 50)), (error: unknown) => error instanceof ModelLoadError && error.reason === 'INVALID_MODEL');
    await assert.rejects(runtime.load(Buffer.from('not a model at all')), (error: unknown) => error instanceof ModelLoadError && error.reason === 'INVALID_MODEL');
  });

  describe('when CUDA is asked for but absent', () => {
    it('falls back to the CPU with one warning, and runs', async () => {
      const { logger, lines } = capturingLogger();
      const runtime = new OnnxRuntime({ executionProvider: 'cuda', cudaDeviceId: 0, intraOpThreads: 1, logger });
      const first = await runtime.load(markerModel(1));
      const second = await runtime.load(markerModel(2));
      assert.equal(first.executionProvider, 'cpu');
      const [scores] = await second.run([{ name: 'features', datatype: 'FP32', shape: [1, 2], data: new Float32Array([1, 2]) }], ['scores']);
      assert.deepEqual(Array.from(scores.data as Float32Array), [3, 2]);
      assert.equal(lines.filter((line) => line.level === 40 && /CUDA execution provider is not available/.test(line.msg)).length, 1);
      await first.release();
      await second.release();
    });
  });
});
