import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually, testInfra, uniqueName } from '@loopline/testing';
import { FakeRegistry } from './fake-registry';
import { call } from './http-client';
import { markerModel } from './onnx-models';
import { startServing, type ServingUnderTest } from './serving-harness';

// Real parts: serving on real ports; NVIDIA's tritonclient (Python, pinned in
// test/python/requirements.txt) as an unmodified product backend would use it.

function runPython(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('Serving with tritonclient', () => {
  const infra = testInfra();
  const model = uniqueName('triton');
  let registry: FakeRegistry;
  let serving: ServingUnderTest;

  before(async () => {
    registry = await new FakeRegistry().start();
    await registry.addVersion(model, 7, markerModel(7));
    registry.setAliasQuietly(model, 'champion', 7);
    serving = await startServing({ registryUrl: registry.url, dataDir: join(infra.dataDir, uniqueName('serving')), models: [model] });
    await eventually(async () => (await call(`${serving.httpUrl}/v2/health/ready`)).status === 200, { timeoutMs: 30_000, what: 'serving ready' });
  });

  after(async () => {
    await serving?.stop();
    await registry?.stop();
  });

  it('works unmodified over HTTP (binary and JSON tensors) and gRPC (raw contents), errors included', async () => {
    const script = join(__dirname, 'python', 'tritonclient_check.py');
    const { code, stdout, stderr } = await runPython([script, serving.httpUrl.replace('http://', ''), serving.grpcAddress, model, '7']);
    assert.equal(code, 0, `tritonclient check failed:\n${stdout}\n${stderr}\n(install the test dependencies: pip install -r services/serving/test/python/requirements.txt)`);
    const findings = JSON.parse(stdout.trim().split('\n').pop()!) as { ok: boolean; http_error: string; grpc_error: string };
    assert.equal(findings.ok, true);
    assert.match(findings.http_error, /input 'features': expected shape \[-1, 2\], received \[1, 3\]/);
    assert.match(findings.grpc_error, /unknown model 'no-such-model'/);
  });
});
