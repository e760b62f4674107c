import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { isEvent, ModelLoadFailedSchema, ModelLoadFailureReason, PredictionLoggedSchema, TrafficRole } from '@loopline/contracts';
import { eventually, testInfra, uniqueName } from '@loopline/testing';
import { Kafka, logLevel } from 'kafkajs';
import { FakeRegistry } from './fake-registry';
import { call, outputNamed, postJson, type HttpAnswer } from './http-client';
import { oipGrpcClient, type OipGrpcClient } from './oip-grpc-client';
import { echoModel, markerModel } from './onnx-models';
import { startLoad } from './load-generator';
import { startServing, type ServingUnderTest } from './serving-harness';
import { TopicReader } from './topic-reader';

// Real parts: the serving service (in this process, through the service host, on real ports),
// ONNX Runtime, Kafka (the run's broker), the registry's REST routes and events (a stand-in HTTP
// server with the registry's exact routes, publishing real events), the gRPC client loaded from
// the published proto.

const fixtures = join(__dirname, 'fixtures');
const sklearnExpected = JSON.parse(readFileSync(join(fixtures, 'sklearn-gbt.expected.json'), 'utf8')) as {
  features: number;
  rows: number[][];
  label: number[];
  probabilities: number[][];
};

describe('Serving', () => {
  const infra = testInfra();
  const kafka = new Kafka({ clientId: 'serving-e2e', brokers: infra.kafkaBrokers, logLevel: logLevel.NOTHING });
  const linear = uniqueName('linear');
  const echo = uniqueName('echo');
  const sklearn = uniqueName('sklearn');
  const swap = uniqueName('swap');
  const shadowed = uniqueName('shadowed');
  const names = [linear, echo, sklearn, swap, shadowed];
  let registry: FakeRegistry;
  let serving: ServingUnderTest;
  let grpc: OipGrpcClient;
  let predictions: TopicReader<'loopline.serving.predictions.v1'>;
  let loads: TopicReader<'loopline.serving.model-loads.v1'>;
  const url = (path: string) => `${serving.httpUrl}${path}`;

  before(async () => {
    registry = await new FakeRegistry(kafka).start();
    await registry.addVersion(linear, 1, markerModel(1));
    await registry.addVersion(linear, 2, markerModel(2));
    registry.setAliasQuietly(linear, 'champion', 2);
    await registry.addVersion(echo, 1, echoModel());
    registry.setAliasQuietly(echo, 'champion', 1);
    await registry.addVersion(sklearn, 1, readFileSync(join(fixtures, 'sklearn-gbt.onnx')));
    registry.setAliasQuietly(sklearn, 'champion', 1);
    await registry.addVersion(swap, 1, markerModel(1));
    registry.setAliasQuietly(swap, 'champion', 1);
    await registry.addVersion(shadowed, 1, markerModel(1));
    await registry.addVersion(shadowed, 2, markerModel(2));
    registry.setAliasQuietly(shadowed, 'champion', 1);
    registry.setAliasQuietly(shadowed, 'challenger', 2);

    serving = await startServing({
      registryUrl: registry.url,
      kafkaBrokers: infra.kafkaBrokers,
      dataDir: join(infra.dataDir, uniqueName('serving')),
      models: names,
      env: { LOOPLINE_SERVING_MAX_BODY_BYTES: String(64 * 1024), LOOPLINE_SERVING_LOG_FLUSH_MS: '10' },
    });
    grpc = oipGrpcClient(serving.grpcAddress);
    await eventually(async () => (await call(url('/v2/health/ready'))).status === 200, { timeoutMs: 30_000, what: 'serving ready' });
    predictions = await new TopicReader(kafka, 'loopline.serving.predictions.v1', new Set(names)).start();
    loads = await new TopicReader(kafka, 'loopline.serving.model-loads.v1', new Set(names)).start();
  });

  after(async () => {
    grpc?.close();
    await predictions?.stop();
    await loads?.stop();
    await serving?.stop();
    await registry?.stop();
  });

  describe('Open Inference Protocol over REST', () => {
    it('answers liveness, readiness, server metadata and model metadata', async () => {
      assert.deepEqual((await call(url('/v2/health/live'))).json, { live: true });
      assert.deepEqual((await call(url('/v2/health/ready'))).json, { ready: true });
      assert.equal((await call(url('/health/ready'))).status, 200);
      const server = await call(url('/v2'));
      assert.deepEqual(server.json, { name: 'loopline', version: '0.1.0', extensions: ['binary_tensor_data'] });
      const metadata = await call(url(`/v2/models/${linear}`));
      assert.deepEqual(metadata.json, {
        name: linear,
        versions: ['2'],
        platform: 'onnxruntime_onnx',
        inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 2] }],
        outputs: [
          { name: 'scores', datatype: 'FP32', shape: [-1, 2] },
          { name: 'label', datatype: 'INT64', shape: [-1] },
        ],
      });
      assert.equal((await call(url(`/v2/models/${linear}/versions/2`))).status, 200);
      assert.deepEqual((await call(url(`/v2/models/${linear}/ready`))).json, { name: linear, ready: true });
      assert.deepEqual((await call(url(`/v2/models/${linear}/versions/2/ready`))).json, { name: linear, ready: true });
      assert.equal((await call(url(`/v2/models/${linear}/versions/1/ready`))).status, 404);
    });

    it("infers with the model's champion when only the name is given, echoing the id and naming the version", async () => {
      const answer = await postJson(url(`/v2/models/${linear}/infer`), { id: 'req-1', inputs: [{ name: 'features', shape: [2, 2], datatype: 'FP32', data: [[1, 2], [3, 4]] }] });
      assert.equal(answer.status, 200, JSON.stringify(answer.json));
      assert.equal(answer.json.model_name, linear);
      assert.equal(answer.json.model_version, '2');
      assert.equal(answer.json.id, 'req-1');
      assert.deepEqual(outputNamed(answer, 'scores'), { name: 'scores', datatype: 'FP32', shape: [2, 2], data: [3, 2, 7, 2] });
      assert.deepEqual(outputNamed(answer, 'label'), { name: 'label', datatype: 'INT64', shape: [2], data: [0, 0] });
    });

    it('returns only the outputs asked for', async () => {
      const answer = await postJson(url(`/v2/models/${linear}/versions/2/infer`), {
        inputs: [{ name: 'features', shape: [1, 2], datatype: 'FP32', data: [0.5, 0.25] }],
        outputs: [{ name: 'label' }],
      });
      assert.equal(answer.status, 200);
      assert.deepEqual((answer.json.outputs as { name: string }[]).map((output) => output.name), ['label']);
      assert.match(String(answer.json.id), /^[0-9a-f-]{36}$/, 'a request without id gets its prediction id');
    });

    it('serves the scikit-learn model exactly as scikit-learn predicts', async () => {
      const answer = await postJson(url(`/v2/models/${sklearn}/infer`), {
        inputs: [{ name: 'features', shape: [sklearnExpected.rows.length, sklearnExpected.features], datatype: 'FP32', data: sklearnExpected.rows }],
      });
      assert.equal(answer.status, 200, JSON.stringify(answer.json));
      assert.deepEqual(outputNamed(answer, 'label').data, sklearnExpected.label);
      const probabilities = outputNamed(answer, 'probabilities').data as number[];
      sklearnExpected.probabilities.flat().forEach((expected, index) => assert.ok(Math.abs(probabilities[index] - expected) < 1e-5, `probability ${index}: ${probabilities[index]} vs ${expected}`));
    });

    it('carries BOOL, INT32, BYTES, FP64, INT64 and FP16 tensors in JSON', async () => {
      const answer = await postJson(url(`/v2/models/${echo}/infer`), {
        inputs: [
          { name: 'flag', shape: [2, 1], datatype: 'BOOL', data: [true, false] },
          { name: 'count', shape: [2, 1], datatype: 'INT32', data: [-7, 2147483647] },
          { name: 'name', shape: [2, 1], datatype: 'BYTES', data: ['héllo', ''] },
          { name: 'wide', shape: [2, 1], datatype: 'FP64', data: [0.1, -1e300] },
          { name: 'big', shape: [2, 1], datatype: 'INT64', data: [-3, 4] },
          { name: 'half', shape: [2, 1], datatype: 'FP16', data: [1.5, -2] },
        ],
      });
      assert.equal(answer.status, 200, JSON.stringify(answer.json));
      assert.deepEqual(outputNamed(answer, 'flag_out').data, [true, false]);
      assert.deepEqual(outputNamed(answer, 'count_out').data, [-7, 2147483647]);
      assert.deepEqual(outputNamed(answer, 'name_out').data, ['héllo', '']);
      assert.deepEqual(outputNamed(answer, 'wide_out').data, [0.1, -1e300]);
      assert.deepEqual(outputNamed(answer, 'big_out').data, [-3, 4]);
      assert.deepEqual(outputNamed(answer, 'half_out'), { name: 'half_out', datatype: 'FP16', shape: [2, 1], data: [1.5, -2] });
    });

    it('speaks the binary tensor data extension both ways', async () => {
      const header = Buffer.from(
        JSON.stringify({
          inputs: [{ name: 'features', shape: [1, 2], datatype: 'FP32', parameters: { binary_data_size: 8 } }],
          outputs: [{ name: 'scores', parameters: { binary_data: true } }, { name: 'label', parameters: { binary_data: false } }],
        }),
      );
      const response = await fetch(url(`/v2/models/${linear}/infer`), {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
        body: Buffer.concat([header, Buffer.from(new Float32Array([1, 2]).buffer)]),
      });
      assert.equal(response.status, 200);
      const body = Buffer.from(await response.arrayBuffer());
      const jsonLength = Number(response.headers.get('inference-header-content-length'));
      const json = JSON.parse(body.subarray(0, jsonLength).toString()) as { outputs: { name: string; parameters?: { binary_data_size: number }; data?: unknown[] }[] };
      assert.deepEqual(json.outputs[0].parameters, { binary_data_size: 8 });
      const scores = body.subarray(jsonLength);
      assert.deepEqual([scores.readFloatLE(0), scores.readFloatLE(4)], [3, 2]);
      assert.deepEqual(json.outputs[1].data, [0]);
    });

    describe('when the request is bad', () => {
      const runs = async () => Number(/^loopline_serving_batch_rows_count (\d+)/m.exec(await (await fetch(url('/metrics'))).text())?.[1] ?? NaN);
      let runsBefore = NaN;
      before(async () => {
        runsBefore = await runs();
      });

      const cases: { what: string; path?: string; body: unknown; contentType?: string; status: number; message: RegExp }[] = [
        { what: 'wrong shape', body: { inputs: [{ name: 'features', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] }, status: 400, message: /input 'features': expected shape \[-1, 2\], received \[1, 3\]/ },
        { what: 'wrong datatype', body: { inputs: [{ name: 'features', shape: [1, 2], datatype: 'INT32', data: [1, 2] }] }, status: 400, message: /input 'features': expected datatype FP32, received INT32/ },
        { what: 'missing input', body: { inputs: [] }, status: 400, message: /missing input 'features'/ },
        { what: 'extra input', body: { inputs: [{ name: 'features', shape: [1, 2], datatype: 'FP32', data: [1, 2] }, { name: 'other', shape: [1], datatype: 'FP32', data: [1] }] }, status: 400, message: /unexpected input 'other'/ },
        { what: 'duplicate input', body: { inputs: [1, 2].map(() => ({ name: 'features', shape: [1, 2], datatype: 'FP32', data: [1, 2] })) }, status: 400, message: /input 'features' appears more than once/ },
        { what: 'data length differing from the shape', body: { inputs: [{ name: 'features', shape: [2, 2], datatype: 'FP32', data: [1, 2, 3] }] }, status: 400, message: /shape \[2, 2\] holds 4 elements, received 3/ },
        { what: 'negative dimension', body: { inputs: [{ name: 'features', shape: [-2, 2], datatype: 'FP32', data: [1, 2] }] }, status: 400, message: /dimensions must be non-negative integers/ },
        { what: 'unknown output', body: { inputs: [{ name: 'features', shape: [1, 2], datatype: 'FP32', data: [1, 2] }], outputs: [{ name: 'nope' }] }, status: 400, message: /unknown output 'nope'/ },
        { what: 'malformed JSON', body: '{"inputs": [', status: 400, message: /the request body is not valid JSON/ },
        { what: 'a JSON array', body: '[1]', status: 400, message: /must be a JSON object with an "inputs" array/ },
        { what: 'wrong content type', body: 'inputs', contentType: 'text/plain', status: 400, message: /unsupported content type 'text\/plain'/ },
        { what: 'oversized body', body: { inputs: [{ name: 'features', shape: [1, 2], datatype: 'FP32', data: [1, 2] }], pad: 'x'.repeat(70 * 1024) }, status: 413, message: /Request body is too large/ },
        { what: 'unknown model', path: '/v2/models/no-such-model/infer', body: { inputs: [] }, status: 404, message: /unknown model 'no-such-model'/ },
        { what: 'unknown version', path: `/v2/models/{linear}/versions/9/infer`, body: { inputs: [] }, status: 404, message: /has no version '9' served here \(served: 2\)/ },
      ];
      for (const testCase of cases) {
        it(`answers ${testCase.status} naming the problem: ${testCase.what}`, async () => {
          const path = (testCase.path ?? `/v2/models/${linear}/infer`).replace('{linear}', linear);
          const answer: HttpAnswer = await call(url(path), {
            method: 'POST',
            headers: { 'content-type': testCase.contentType ?? 'application/json' },
            body: typeof testCase.body === 'string' ? testCase.body : JSON.stringify(testCase.body),
          });
          assert.equal(answer.status, testCase.status, JSON.stringify(answer.json));
          assert.deepEqual(Object.keys(answer.json), ['error']);
          assert.match(String(answer.json.error), testCase.message);
        });
      }

      it('never ran the model for any of them', async () => {
        assert.ok(Number.isFinite(runsBefore));
        assert.equal(await runs(), runsBefore);
      });

      it('answers 404 for metadata of an unknown model or version', async () => {
        assert.equal((await call(url('/v2/models/no-such-model'))).status, 404);
        assert.match(String((await call(url(`/v2/models/${linear}/versions/7`))).json.error), /no version '7'/);
      });
    });
  });

  describe('Open Inference Protocol over gRPC (client loaded from the published proto)', () => {
    it('answers liveness, readiness and metadata', async () => {
      assert.deepEqual(await grpc.ServerLive({}), { live: true });
      assert.deepEqual(await grpc.ServerReady({}), { ready: true });
      assert.deepEqual(await grpc.ModelReady({ name: linear }), { ready: true });
      assert.deepEqual(await grpc.ModelReady({ name: 'no-such-model' }), { ready: false });
      const server = await grpc.ServerMetadata({});
      assert.deepEqual(server.extensions, ['binary_tensor_data']);
      const metadata = await grpc.ModelMetadata({ name: linear });
      assert.equal(metadata.platform, 'onnxruntime_onnx');
      assert.deepEqual(metadata.inputs, [{ name: 'features', datatype: 'FP32', shape: ['-1', '2'] }]);
    });

    it('infers with typed contents, answering typed contents', async () => {
      const response = await grpc.ModelInfer({ model_name: linear, id: 'g-1', inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2], contents: { fp32_contents: [1, 2] } }] });
      assert.equal(response.model_version, '2');
      assert.equal(response.id, 'g-1');
      const outputs = response.outputs as { name: string; shape: string[]; contents: { fp32_contents: number[]; int64_contents: string[] } }[];
      assert.deepEqual(outputs[0].contents.fp32_contents, [3, 2]);
      assert.deepEqual(outputs[1].contents.int64_contents, ['0']);
      assert.deepEqual(response.raw_output_contents, []);
    });

    it('infers with raw_input_contents, answering raw_output_contents (little-endian)', async () => {
      const response = await grpc.ModelInfer({
        model_name: linear,
        model_version: '2',
        inputs: [{ name: 'features', datatype: 'FP32', shape: [2, 2] }],
        raw_input_contents: [Buffer.from(new Float32Array([1, 2, 3, 4]).buffer)],
      });
      const [scores, label] = response.raw_output_contents as Buffer[];
      assert.deepEqual([0, 4, 8, 12].map((offset) => scores.readFloatLE(offset)), [3, 2, 7, 2]);
      assert.deepEqual([label.readBigInt64LE(0), label.readBigInt64LE(8)], [0n, 0n]);
    });

    it('answers INVALID_ARGUMENT and NOT_FOUND naming the problem', async () => {
      await assert.rejects(grpc.ModelInfer({ model_name: linear, inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 3], contents: { fp32_contents: [1, 2, 3] } }] }), (error: { code: number; details: string }) => {
        assert.equal(error.code, status.INVALID_ARGUMENT);
        assert.match(error.details, /input 'features': expected shape \[-1, 2\], received \[1, 3\]/);
        return true;
      });
      await assert.rejects(
        grpc.ModelInfer({ model_name: linear, inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2] }], raw_input_contents: [Buffer.alloc(7)] }),
        (error: { code: number; details: string }) => error.code === status.INVALID_ARGUMENT && /received 7 bytes/.test(error.details),
      );
      await assert.rejects(grpc.ModelInfer({ model_name: 'no-such-model', inputs: [] }), (error: { code: number }) => error.code === status.NOT_FOUND);
      await assert.rejects(grpc.ModelMetadata({ name: linear, version: '5' }), (error: { code: number }) => error.code === status.NOT_FOUND);
    });
  });

  describe('when the champion moves while requests flow', () => {
    it('swaps with zero failed requests; every response names its version; after the swap only the new version answers', async () => {
      await registry.addVersion(swap, 2, markerModel(2));
      // About 400 requests per second, open loop; the alias moves after 1 second.
      const load = startLoad(url(`/v2/models/${swap}/infer`), { inputs: [{ name: 'features', shape: [1, 2], datatype: 'FP32', data: [1, 1] }] }, 400);
      // Phases end on counts as well as time: a busy host slows the test down but does not weaken it.
      const answered = async (count: number, minimumMs: number) => {
        const started = Date.now();
        await eventually(() => load.completed() >= count && Date.now() - started >= minimumMs, { timeoutMs: 30_000, what: `${count} answers` });
      };
      await answered(200, 1_000);
      await registry.setAlias(swap, 'champion', 2);
      // Load on after the switch for another second, however long the load itself took.
      await eventually(
        async () => (await postJson(url(`/v2/models/${swap}/infer`), { inputs: [{ name: 'features', shape: [1, 2], datatype: 'FP32', data: [1, 1] }] })).json.model_version === '2',
        { timeoutMs: 20_000, what: 'version 2 answering' },
      );
      await answered(load.completed() + 200, 1_000);
      const results = (await load.stop()).map((result) => {
        const answer = (result.status === 200 ? JSON.parse(result.body) : {}) as { model_version?: string; outputs?: { name: string; data: number[] }[] };
        return { ...result, version: String(answer.model_version), marker: answer.outputs?.find((output) => output.name === 'scores')?.data[1] };
      });

      // 400/s is the target; a host busy with other work may send fewer, which weakens nothing below.
      assert.ok(results.length >= 400, `only ${results.length} requests were sent`);
      assert.deepEqual(results.filter((result) => result.status !== 200).map((result) => `${result.status} ${result.body}`), [], 'no request failed');
      for (const result of results) assert.equal(result.marker, Number(result.version), 'the version named is the version that computed the answer');
      const firstNew = Math.min(...results.filter((result) => result.version === '2').map((result) => result.receivedAt));
      assert.ok(Number.isFinite(firstNew), 'version 2 answered');
      const lateOld = results.filter((result) => result.sentAt > firstNew && result.version !== '2');
      assert.deepEqual(lateOld, [], 'after the first answer of version 2, only version 2 answers');
      assert.ok(results.filter((result) => result.version === '1').length >= 100, 'version 1 answered before the swap');
      assert.ok(results.filter((result) => result.sentAt > firstNew).length >= 100, 'traffic continued after the swap');
      await eventually(async () => JSON.stringify((await call(url(`/v2/models/${swap}`))).json.versions) === '["2"]', { what: 'version 1 released' });
    });
  });

  describe('when a new version cannot be loaded', () => {
    it('keeps the previous version serving and emits ModelLoadFailed (truncated file, then wrong checksum)', async () => {
      const truncated = markerModel(3).subarray(0, 60);
      await registry.addVersion(swap, 3, truncated, { inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 2] }], outputs: [] });
      await registry.addVersion(swap, 4, markerModel(4), undefined, 'f'.repeat(64));
      const failuresSoFar = async (count: number) =>
        eventually(
          () => {
            const found = loads.events.filter((event) => isEvent(event, ModelLoadFailedSchema) && event.message.modelName === swap);
            if (found.length < count) throw new Error(`${found.length} so far`);
            return found;
          },
          { timeoutMs: 15_000, what: `${count} ModelLoadFailed event(s)` },
        );
      // One move at a time: a move made stale by a newer one is skipped, not loaded.
      await registry.setAlias(swap, 'champion', 3);
      await failuresSoFar(1);
      await registry.setAlias(swap, 'champion', 4);
      const failures = await failuresSoFar(2);
      const byVersion = new Map(failures.map((event) => [event.message.modelVersion, event.message]));
      assert.equal(byVersion.get(3)?.reason, ModelLoadFailureReason.INVALID_MODEL);
      assert.equal(byVersion.get(3)?.servingModelVersion, 2);
      assert.equal(byVersion.get(3)?.alias, 'champion');
      assert.match(byVersion.get(3)?.message ?? '', /ONNX Runtime cannot load the model/);
      assert.equal(byVersion.get(4)?.reason, ModelLoadFailureReason.CHECKSUM_MISMATCH);
      const answer = await postJson(url(`/v2/models/${swap}/infer`), { inputs: [{ name: 'features', shape: [1, 2], datatype: 'FP32', data: [1, 1] }] });
      assert.equal(answer.status, 200);
      assert.equal(answer.json.model_version, '2');
    });
  });

  describe('shadow traffic', () => {
    it("mirrors requests to the challenger and logs its outputs, never returning them", async () => {
      const put = await call(url(`/v1/traffic/${shadowed}`), { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ canaryPercent: 0, shadow: true }) });
      assert.equal(put.status, 200);
      await eventually(async () => JSON.stringify((await call(url(`/v2/models/${shadowed}`))).json.versions) === '["1","2"]', { what: 'challenger loaded' });
      const ids: string[] = [];
      for (let index = 0; index < 20; index++) {
        const answer = await postJson(url(`/v2/models/${shadowed}/infer`), { inputs: [{ name: 'features', shape: [1, 2], datatype: 'FP32', data: [index, 1] }] });
        assert.equal(answer.json.model_version, '1');
        assert.equal((outputNamed(answer, 'scores').data as number[])[1], 1, "the champion's outputs, not the challenger's");
        ids.push(String(answer.json.id));
      }
      const logged = await eventually(
        () => {
          const mine = predictions.events.filter((event) => isEvent(event, PredictionLoggedSchema) && event.message.modelName === shadowed);
          if (mine.length < 40) throw new Error(`${mine.length} so far`);
          return mine;
        },
        { timeoutMs: 15_000, what: '20 primary and 20 shadow predictions logged' },
      );
      const primary = logged.filter((event) => event.message.trafficRole === TrafficRole.PRIMARY);
      const shadow = logged.filter((event) => event.message.trafficRole === TrafficRole.SHADOW);
      assert.deepEqual(primary.map((event) => event.message.predictionId).sort(), [...ids].sort());
      assert.equal(shadow.length, 20);
      for (const event of shadow) {
        assert.equal(event.message.modelVersion, 2);
        assert.equal(event.message.alias, 'challenger');
        assert.deepEqual((event.message.outputs as { scores: number[][] }).scores[0][1], 2, "the challenger's own outputs are logged");
      }
      const first = primary.find((event) => event.message.predictionId === ids[0])!;
      assert.deepEqual(first.message.inputs, { features: [[0, 1]] });
      assert.equal(first.id, ids[0], 'the CloudEvents id is the prediction id');
    });
  });
});
