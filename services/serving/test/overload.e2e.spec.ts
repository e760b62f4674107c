import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { eventually, testInfra, uniqueName } from '@loopline/testing';
import { FakeRegistry } from './fake-registry';
import { call, postJson } from './http-client';
import { oipGrpcClient, type OipGrpcClient } from './oip-grpc-client';
import { markerModel } from './onnx-models';
import { startServing, type ServingUnderTest } from './serving-harness';

// Real parts: serving on real ports with a tiny in-flight bound (4) and a long batching delay
// (300 ms), so that requests provably wait in the queue; ONNX Runtime; the OIP REST and gRPC APIs.

describe('Serving under overload', () => {
  const infra = testInfra();
  const model = uniqueName('overload');
  let registry: FakeRegistry;
  let serving: ServingUnderTest;
  let grpc: OipGrpcClient;
  const body = (extra: Record<string, unknown> = {}) => ({ inputs: [{ name: 'features', shape: [1, 2], datatype: 'FP32', data: [1, 1] }], ...extra });
  const metric = async (pattern: RegExp): Promise<number> => {
    const text = await (await fetch(`${serving.httpUrl}/metrics`)).text();
    return Number(pattern.exec(text)?.[1] ?? 0);
  };

  before(async () => {
    registry = await new FakeRegistry().start();
    await registry.addVersion(model, 1, markerModel(1));
    registry.setAliasQuietly(model, 'champion', 1);
    serving = await startServing({
      registryUrl: registry.url,
      dataDir: join(infra.dataDir, uniqueName('serving')),
      models: [model],
      env: { LOOPLINE_SERVING_MAX_IN_FLIGHT: '4', LOOPLINE_SERVING_MAX_BATCH_DELAY_MS: '300', LOOPLINE_SERVING_MAX_BATCH_ROWS: '1000' },
    });
    grpc = oipGrpcClient(serving.grpcAddress);
    await eventually(async () => (await call(`${serving.httpUrl}/v2/health/ready`)).status === 200, { timeoutMs: 30_000, what: 'serving ready' });
  });

  after(async () => {
    grpc?.close();
    await serving?.stop();
    await registry?.stop();
  });

  describe('when the in-flight bound is reached', () => {
    it('refuses more at once — 503 with Retry-After over REST, RESOURCE_EXHAUSTED over gRPC — while probes still answer fast', async () => {
      const admitted = Array.from({ length: 4 }, () => postJson(`${serving.httpUrl}/v2/models/${model}/infer`, body()));
      await eventually(async () => (await metric(/^loopline_serving_requests_in_flight (\d+)/m)) === 4, { intervalMs: 5, what: 'four requests admitted and queued' });

      const started = performance.now();
      const refused = await postJson(`${serving.httpUrl}/v2/models/${model}/infer`, body());
      const refusedMs = performance.now() - started;
      assert.equal(refused.status, 503);
      assert.equal(refused.headers.get('retry-after'), '1');
      assert.match(String(refused.json.error), /at its limit of 4 requests in flight/);
      // Admitted requests wait 300 ms in the queue: an answer well before that was not queued.
      assert.ok(refusedMs < 250, `refused after ${refusedMs.toFixed(1)} ms`);

      await assert.rejects(
        grpc.ModelInfer({ model_name: model, inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], contents: { fp32_contents: [1, 1] } }] }),
        (error: { code: number }) => error.code === status.RESOURCE_EXHAUSTED,
      );

      const probeStarted = performance.now();
      assert.equal((await call(`${serving.httpUrl}/v2/health/live`)).status, 200);
      assert.equal((await call(`${serving.httpUrl}/v2/health/ready`)).status, 200);
      assert.ok(performance.now() - probeStarted < 250, 'probes do not wait behind the 300 ms queue');

      const answers = await Promise.all(admitted);
      assert.deepEqual(answers.map((answer) => answer.status), [200, 200, 200, 200]);
      assert.ok(await metric(/^loopline_serving_requests_rejected_total\{reason="overloaded"\} (\d+)/m) >= 2);
    });
  });

  describe('when a request waits in the queue past its deadline', () => {
    it('never runs it: 503 over REST (Triton timeout parameter), and the expiry is counted', async () => {
      const runsBefore = await metric(/^loopline_serving_batch_rows_count (\d+)/m);
      const expiredBefore = await metric(/^loopline_serving_requests_rejected_total\{reason="expired"\} (\d+)/m);
      const answer = await postJson(`${serving.httpUrl}/v2/models/${model}/infer`, body({ parameters: { timeout: 50_000 } }));
      assert.equal(answer.status, 503);
      assert.match(String(answer.json.error), /waited in the queue past its deadline and was not run/);
      assert.equal(await metric(/^loopline_serving_requests_rejected_total\{reason="expired"\} (\d+)/m), expiredBefore + 1);
      assert.equal(await metric(/^loopline_serving_batch_rows_count (\d+)/m), runsBefore, 'no run happened');
    });

    it('drops a gRPC request whose deadline passed while queued', async () => {
      const expiredBefore = await metric(/^loopline_serving_requests_rejected_total\{reason="expired"\} (\d+)/m);
      await assert.rejects(
        grpc.ModelInfer({ model_name: model, inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], contents: { fp32_contents: [1, 1] } }] }, undefined, { deadline: Date.now() + 100 }),
        (error: { code: number }) => error.code === status.DEADLINE_EXCEEDED,
      );
      await eventually(async () => (await metric(/^loopline_serving_requests_rejected_total\{reason="expired"\} (\d+)/m)) === expiredBefore + 1, { what: 'the expired gRPC request counted' });
    });
  });
});
