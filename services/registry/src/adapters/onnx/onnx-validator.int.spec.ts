/**
 * The isolated validator with real child processes and ONNX Runtime: signatures are read from
 * the loaded graph, and the time and memory bounds kill the worker, not the caller.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { ValidationError } from '@loopline/errors';
import { testInfra, uniqueName } from '@loopline/testing';
import { linearModel } from '../../../test/onnx-models';
import { IsolatedOnnxValidator } from './onnx-validator';

describe('IsolatedOnnxValidator', () => {
  let dir: string;
  let modelPath: string;
  const model = linearModel({ weights: [1, 2] });

  before(() => {
    dir = join(testInfra().dataDir, uniqueName('onnx_validator'));
    mkdirSync(dir, { recursive: true });
    modelPath = join(dir, 'model.onnx');
    writeFileSync(modelPath, model);
  });

  const file = () => ({ path: modelPath, sha256: '', sizeBytes: model.length });

  it('reads the signature from the graph as ONNX Runtime loads it', async () => {
    const validator = new IsolatedOnnxValidator({ timeoutMs: 20_000, memoryMb: 2_048, concurrency: 1, workDir: join(dir, 'work') });
    try {
      assert.deepEqual(await validator.validate(file()), {
        inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 2] }],
        outputs: [{ name: 'score', datatype: 'FP32', shape: [-1, 1] }],
      });
    } finally {
      validator.close();
    }
  });

  it('kills a worker that runs past its time bound', async () => {
    const validator = new IsolatedOnnxValidator({ timeoutMs: 30, memoryMb: 2_048, concurrency: 1, workDir: join(dir, 'work') });
    await assert.rejects(validator.validate(file()), (error: unknown) => error instanceof ValidationError && /stopped: loading took longer than 30 ms/.test(error.message));
    validator.close();
  });

  it('kills a worker that grows past its memory bound', async () => {
    // A bare Node process with its TypeScript loader is already beyond 64 MB resident.
    const validator = new IsolatedOnnxValidator({ timeoutMs: 20_000, memoryMb: 64, concurrency: 1, workDir: join(dir, 'work') });
    await assert.rejects(validator.validate(file()), (error: unknown) => error instanceof ValidationError && /used more than 64 MB of memory/.test(error.message));
    validator.close();
  });

  it('bounds the workers running at once, one fresh process per model', async () => {
    const validator = new IsolatedOnnxValidator({ timeoutMs: 20_000, memoryMb: 2_048, concurrency: 1, workDir: join(dir, 'work') });
    try {
      const results = await Promise.all([validator.validate(file()), validator.validate(file()), validator.validate(file())]);
      assert.deepEqual(results.map((signature) => signature.inputs[0]?.shape), [[-1, 2], [-1, 2], [-1, 2]]);
    } finally {
      validator.close();
    }
  });
});
