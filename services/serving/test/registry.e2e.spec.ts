import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, eventually, freePort, testInfra, uniqueName } from '@loopline/testing';
import { call, outputNamed, postJson } from './http-client';
import { oipGrpcClient } from './oip-grpc-client';
import { markerModel } from './onnx-models';
import { startServing, type ServingUnderTest } from './serving-harness';

// Real parts: the registry service as its own process (services/registry/src/main.ts) on the run's
// PostgreSQL and Kafka, serving in this process, ONNX Runtime. Serving learns about the model only
// through the registry's REST API and its alias events.

const root = resolve(__dirname, '..', '..', '..');
const actor = { 'x-loopline-actor': 'user:serving-e2e' };

async function upload(registryUrl: string, name: string, artifact: Buffer): Promise<number> {
  const form = new FormData();
  form.append('metadata', JSON.stringify({ metrics: { auc: 0.7 } }));
  form.append('artifact', new Blob([artifact], { type: 'application/octet-stream' }), 'model.onnx');
  const response = await fetch(`${registryUrl}/v1/models/${encodeURIComponent(name)}/versions`, { method: 'POST', body: form, headers: actor });
  const body = (await response.json()) as { version?: number };
  assert.equal(response.status, 201, JSON.stringify(body));
  return body.version!;
}

describe('Serving against the real registry', () => {
  const infra = testInfra();
  const name = uniqueName('registered');
  let registryProcess: ChildProcess | undefined;
  let registryOutput = '';
  let registryUrl: string;
  let serving: ServingUnderTest;

  before(async () => {
    const httpPort = await freePort();
    registryUrl = `http://127.0.0.1:${httpPort}`;
    registryProcess = spawn(process.execPath, ['-r', '@swc-node/register', join('services', 'registry', 'src', 'main.ts')], {
      cwd: root,
      env: {
        ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('LOOPLINE_'))),
        LOOPLINE_REGISTRY_HTTP_PORT: String(httpPort),
        LOOPLINE_REGISTRY_GRPC_PORT: String(await freePort()),
        LOOPLINE_POSTGRES_URL: await createTestDatabase('serving_registry', infra),
        LOOPLINE_KAFKA_BROKERS: infra.kafkaBrokers.join(','),
        LOOPLINE_DATA_DIR: join(infra.dataDir, uniqueName('registry')),
        LOOPLINE_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    registryProcess.stdout?.on('data', (chunk: Buffer) => (registryOutput = (registryOutput + chunk.toString()).slice(-4_000)));
    registryProcess.stderr?.on('data', (chunk: Buffer) => (registryOutput = (registryOutput + chunk.toString()).slice(-4_000)));
    await eventually(async () => (await fetch(`${registryUrl}/health/ready`)).status === 200, { timeoutMs: 60_000, intervalMs: 200, what: `registry ready\n${registryOutput}` });

    serving = await startServing({ registryUrl, kafkaBrokers: infra.kafkaBrokers, dataDir: join(infra.dataDir, uniqueName('serving')), models: [name] });
    await eventually(async () => (await call(`${serving.httpUrl}/v2/health/ready`)).status === 200, { timeoutMs: 30_000, what: 'serving ready' });
  });

  after(async () => {
    await serving?.stop();
    if (registryProcess && registryProcess.exitCode === null) {
      const exited = new Promise((resolvePromise) => registryProcess!.once('exit', resolvePromise));
      registryProcess.kill('SIGTERM');
      await exited;
    }
  });

  it('serves what the registry promotes: register, move champion, infer over REST and gRPC, then follow the next promotion', async () => {
    const created = await fetch(`${registryUrl}/v1/models`, { method: 'POST', headers: { 'content-type': 'application/json', ...actor }, body: JSON.stringify({ name, description: 'serving e2e' }) });
    assert.equal(created.status, 201, await created.text());
    const first = await upload(registryUrl, name, markerModel(1));
    const promote = (version: number) =>
      fetch(`${registryUrl}/v1/models/${encodeURIComponent(name)}/aliases/champion`, { method: 'PUT', headers: { 'content-type': 'application/json', ...actor }, body: JSON.stringify({ version, reason: 'serving e2e' }) });
    assert.equal((await promote(first)).status, 200);

    const infer = () => postJson(`${serving.httpUrl}/v2/models/${name}/infer`, { inputs: [{ name: 'features', shape: [1, 2], datatype: 'FP32', data: [2, 3] }] });
    const answer = await eventually(async () => {
      const attempt = await infer();
      if (attempt.status !== 200) throw new Error(`${attempt.status} ${JSON.stringify(attempt.json)}`);
      return attempt;
    }, { timeoutMs: 20_000, what: 'serving follows the first promotion' });
    assert.equal(answer.json.model_version, String(first));
    assert.deepEqual(outputNamed(answer, 'scores').data, [5, 1]);

    const grpc = oipGrpcClient(serving.grpcAddress);
    try {
      const response = await grpc.ModelInfer({ model_name: name, inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 2] }], raw_input_contents: [Buffer.from(new Float32Array([2, 3]).buffer)] });
      assert.equal(response.model_version, String(first));
      const metadata = await grpc.ModelMetadata({ name });
      assert.deepEqual(metadata.inputs, [{ name: 'features', datatype: 'FP32', shape: ['-1', '2'] }]);
    } finally {
      grpc.close();
    }

    const second = await upload(registryUrl, name, markerModel(2));
    assert.equal((await promote(second)).status, 200);
    await eventually(async () => (await infer()).json.model_version === String(second), { timeoutMs: 20_000, what: 'serving follows the second promotion' });
    assert.deepEqual(outputNamed(await infer(), 'scores').data, [5, 2]);
  });
});
