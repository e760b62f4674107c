import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import pino from 'pino';
import { Admission } from '../src/application/admission';
import { InferenceService, type PredictionRecord } from '../src/application/inference-service';
import { ModelManager } from '../src/application/model-manager';
import type { ModelSource, RegisteredVersion } from '../src/application/ports';
import { TrafficPolicies } from '../src/application/traffic-policies';
import { OnnxRuntime } from '../src/adapters/onnx/onnx-runtime';
import { markerModel } from './onnx-models';

// Real parts: ONNX Runtime, the model manager, the inference service and its traffic split, in
// process (no HTTP, to keep 10,000 requests fast); the registry is an in-memory model source.

const logger = pino({ level: 'silent' });

function memorySource(model: string, versions: Record<number, Buffer>, aliases: Record<string, number>): ModelSource {
  const signature = { inputs: [{ name: 'features', datatype: 'FP32' as const, shape: [-1, 2] }], outputs: [{ name: 'scores', datatype: 'FP32' as const, shape: [-1, 2] }, { name: 'label', datatype: 'INT64' as const, shape: [-1] }] };
  return {
    listModels: async () => [{ name: model, latestVersion: 2, aliases }],
    getVersion: async (name, version): Promise<RegisteredVersion | undefined> =>
      versions[version] ? { name, version, artifact: { sha256: createHash('sha256').update(versions[version]).digest('hex'), sizeBytes: versions[version].length }, signature, status: 'READY' } : undefined,
    downloadArtifact: async (_name, version) => versions[version],
  };
}

async function servingWith(canaryPercent: number, shadow: boolean) {
  const traffic = new TrafficPolicies({ m: { canaryPercent, shadow } });
  const manager = new ModelManager({
    source: memorySource('m', { 1: markerModel(1), 2: markerModel(2) }, { champion: 1, challenger: 2 }),
    runtime: new OnnxRuntime({ executionProvider: 'cpu', cudaDeviceId: 0, intraOpThreads: 1, logger }),
    listener: { loaded: () => undefined, loadFailed: () => undefined },
    logger,
    servesModel: () => true,
    wantsAlias: (_name, alias) => alias === 'champion' || alias === 'challenger',
    batching: { maxBatchRows: 32, maxDelayMs: 0 },
    onExpired: () => undefined,
    onRun: () => undefined,
    now: Date.now,
  });
  await manager.loadInitial(new AbortController().signal);
  const logged: PredictionRecord[] = [];
  const inference = new InferenceService({
    manager,
    admission: new Admission(100_000),
    traffic,
    predictions: { record: (prediction) => logged.push(prediction) },
    logger,
    defaultTimeoutMs: 60_000,
    now: Date.now,
    random: Math.random,
    newId: randomUUID,
    onShadowSkipped: () => undefined,
  });
  return { inference, manager, logged };
}

const request = (receivedAt: number) => ({
  modelName: 'm',
  inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], payload: { kind: 'json' as const, data: [1, 1] } }],
  receivedAt,
});

describe('Traffic split (in process, real ONNX Runtime)', () => {
  describe('with a 20% canary', () => {
    it('lets the challenger answer 20% (±2%) of 10,000 requests, and says so in each answer and log entry', async () => {
      const { inference, manager, logged } = await servingWith(20, false);
      const answers = [];
      for (let batch = 0; batch < 100; batch++) {
        answers.push(...(await Promise.all(Array.from({ length: 100 }, () => inference.infer(request(Date.now()))))));
      }
      const byChallenger = answers.filter((answer) => answer.modelVersion === '2');
      assert.ok(Math.abs(byChallenger.length - 2_000) <= 200, `challenger answered ${byChallenger.length} of 10,000`);
      for (const answer of answers) assert.equal((answer.outputs[0].data as Float32Array)[1], Number(answer.modelVersion), 'the named version computed the answer');
      assert.equal(logged.length, 10_000);
      assert.equal(logged.filter((entry) => entry.role === 'canary' && entry.modelVersion === 2 && entry.alias === 'challenger').length, byChallenger.length);
      assert.equal(logged.filter((entry) => entry.role === 'primary' && entry.modelVersion === 1).length, 10_000 - byChallenger.length);
      await manager.close();
    });
  });

  describe('in shadow mode', () => {
    it('answers with the champion only and logs the challenger on the side', async () => {
      const { inference, manager, logged } = await servingWith(0, true);
      const answers = await Promise.all(Array.from({ length: 200 }, () => inference.infer(request(Date.now()))));
      assert.ok(answers.every((answer) => answer.modelVersion === '1'));
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(logged.filter((entry) => entry.role === 'shadow' && entry.modelVersion === 2).length, 200);
      await manager.close();
    });
  });
});
