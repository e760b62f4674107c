/**
 * What the registry refuses, through its public REST API (REFERENCE §6.6 SEC-1, SEC-3, SEC-4,
 * SEC-6): hostile and broken model files are rejected at registration with 400 and the reason;
 * path traversal in any name or path, in every encoding, is rejected with 400 before routing;
 * nothing is ever written outside the artifact root and no canary byte leaves the server; a blob
 * altered in storage is never served whole. Real: the service, Postgres, Kafka, ONNX Runtime.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, freePort, testInfra, uniqueName } from '@loopline/testing';
import { externalDataModel, linearModel, nestedExternalDataModel, picklePayload, unknownOperatorModel } from './onnx-models';
import { rest, startRegistry, uploadVersion, type JsonResponse, type RegistryUnderTest } from './registry-harness';

const maxArtifactBytes = 64 * 1024;
const canaryText = 'CANARY-7f3a9c-do-not-leak';

/** Every file under `dir`, relative, except those under `skip`. */
function filesUnder(dir: string, skip: string): string[] {
  const found: string[] = [];
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (path === skip) continue;
      if (entry.isDirectory()) walk(path);
      else found.push(relative(dir, path));
    }
  };
  walk(dir);
  return found.sort();
}

/** An HTTP request with the path sent exactly as written (fetch would normalise `..`). */
function rawRequest(baseUrl: string, method: string, path: string, body?: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('registry rejections', () => {
  let registry: RegistryUnderTest;
  let dataDir: string;
  let canaryPath: string;
  let canaryMtime: number;
  let filesBefore: string[];
  const responses: string[] = [];
  const name = uniqueName('guarded').replace(/_/g, '-');

  before(async () => {
    const infra = testInfra();
    dataDir = join(infra.dataDir, uniqueName('registry_rejections'));
    mkdirSync(dataDir, { recursive: true });
    canaryPath = join(dataDir, 'canary.txt');
    writeFileSync(canaryPath, canaryText);
    canaryMtime = statSync(canaryPath).mtimeMs;
    registry = await startRegistry({
      postgresUrl: await createTestDatabase('registry_rejections'),
      kafkaBrokers: infra.kafkaBrokers,
      dataDir,
      grpcPort: await freePort(),
      env: { LOOPLINE_REGISTRY_MAX_ARTIFACT_BYTES: String(maxArtifactBytes) },
    });
    filesBefore = filesUnder(dataDir, registry.artifactRoot);
    assert.equal((await rest(registry.baseUrl, 'POST', '/v1/models', { name })).status, 201);
  });

  after(async () => {
    await registry?.stop();
  });

  describe('when the artifact is not an acceptable ONNX model', () => {
    const cases: [string, () => Buffer, RegExp][] = [
      ['external data with a relative path', () => externalDataModel('../canary.txt'), /tensor "W" .* external file "\.\.\/canary\.txt".*refused/],
      ['external data with an absolute path', () => externalDataModel(canaryPathForCase()), /external file ".*canary\.txt"/],
      ['external data hidden in an If subgraph', () => nestedExternalDataModel('weights.bin'), /tensor "hidden" \(initializer of subgraph of node branch/],
      ['a truncated file', () => linearModel().subarray(0, 60), /does not decode as an ONNX ModelProto \(truncated, or not ONNX\)/],
      ['bytes that are not ONNX', () => Buffer.from('{"this": "is json, not onnx"}'), /not a valid ONNX model/],
      ['a Python pickle', picklePayload, /Python pickle.*never loaded/],
      ['a ZIP archive', () => Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(100)]), /ZIP archive/],
      ['an operator ONNX Runtime does not know', unknownOperatorModel, /ONNX Runtime cannot load the model: .*DoSomethingEvil/],
      ['a file over the size limit', () => linearModel({ paddingFloats: maxArtifactBytes / 2 }), new RegExp(`larger than the maximum of ${maxArtifactBytes} bytes`)],
      ['an empty file', () => Buffer.alloc(0), /artifact is empty/],
    ];
    const results = new Map<string, JsonResponse>();
    before(async () => {
      // Sent at once: the registry validates them in parallel, each in its own worker.
      await Promise.all(cases.map(async ([what, build]) => results.set(what, await uploadVersion(registry.baseUrl, name, build(), { metrics: { auc: 0.8 } }))));
    });

    for (const [what, , reason] of cases) {
      it(`refuses ${what} with 400 saying why`, () => {
        const response = results.get(what)!;
        responses.push(JSON.stringify(response.body));
        assert.equal(response.status, 400, JSON.stringify(response.body));
        assert.match(String(response.body.error), reason);
      });
    }

    it('refuses a request without the artifact part, and one that is not multipart', async () => {
      const missing = await uploadVersion(registry.baseUrl, name, undefined, { metrics: {} });
      assert.deepEqual([missing.status, missing.body.error], [400, 'the "artifact" part (the .onnx file) is missing']);
      const notMultipart = await rest(registry.baseUrl, 'POST', `/v1/models/${name}/versions`, { artifact: 'x' });
      assert.equal(notMultipart.status, 400);
      assert.match(String(notMultipart.body.error), /multipart\/form-data/);
    });

    it('answers 404 for a version of an unknown model', async () => {
      const response = await uploadVersion(registry.baseUrl, 'no-such-model', linearModel(), {});
      assert.equal(response.status, 404);
    });

    it('registered nothing and left no temporary file', async () => {
      const versions = await rest<{ versions: unknown[] }>(registry.baseUrl, 'GET', `/v1/models/${name}/versions`);
      assert.deepEqual(versions.body.versions, []);
      assert.deepEqual(readdirSync(join(registry.artifactRoot, '.incoming')), []);
    });
  });

  describe('when a name or path tries to leave its place', () => {
    const paths = [
      ['GET', '/v1/models/../../canary.txt'],
      ['GET', `/v1/models/${'..%2f'.repeat(4)}canary.txt`],
      ['GET', '/v1/models/%2e%2e%2f%2e%2e%2fcanary.txt/versions/1/artifact'],
      ['GET', '/v1/models/%252e%252e%252fcanary.txt/versions/1/artifact'],
      ['GET', '/v1/models/..%5c..%5ccanary.txt/versions/1/artifact'],
      ['GET', '/v1/models/a%00b/versions/1/artifact'],
      ['GET', '/v1/models/%E2%80%A4%E2%80%A4%2Fcanary.txt/versions/1/artifact'],
      ['GET', `/v1/models/${'x'}/versions/1%2f..%2f..%2fcanary.txt/artifact`],
      ['GET', '/v1/models/./versions/1/artifact'],
      ['PUT', '/v1/models/x/aliases/..%2f..%2fcanary'],
      ['POST', '/v1/models/..%2f..%2fcanary/versions'],
    ] as const;
    for (const [method, path] of paths) {
      it(`refuses ${method} ${path} with 400`, async () => {
        const response = await rawRequest(registry.baseUrl, method, path, method === 'GET' ? undefined : Buffer.from('{}'), { 'content-type': 'application/json' });
        responses.push(response.text);
        assert.equal(response.status, 400, response.text);
        assert.match(response.text, /URL path contains/);
      });
    }

    for (const bad of ['../canary', '/etc/passwd', 'a\u0000b', '..', 'C:\\canary', 'mod\u2024el']) {
      it(`refuses the model name ${JSON.stringify(bad)} in a body with 400`, async () => {
        const response = await rest(registry.baseUrl, 'POST', '/v1/models', { name: bad });
        responses.push(JSON.stringify(response.body));
        assert.equal(response.status, 400);
        assert.match(String(response.body.error), /invalid model name/);
      });
    }

    it('never uses the uploaded file name: a hostile one is ignored and the version registers', async () => {
      const form = new FormData();
      form.append('artifact', new Blob([linearModel()]), '../../canary.txt');
      const response = await fetch(`${registry.baseUrl}/v1/models/${name}/versions`, { method: 'POST', body: form });
      assert.equal(response.status, 201);
      assert.equal(readFileSync(canaryPath, 'utf8'), canaryText);
    });

    it('wrote nothing outside the artifact root, left the canary untouched and never echoed it', () => {
      assert.deepEqual(filesUnder(dataDir, registry.artifactRoot), filesBefore);
      assert.equal(statSync(canaryPath).mtimeMs, canaryMtime);
      assert.equal(readFileSync(canaryPath, 'utf8'), canaryText);
      assert.ok(responses.length > 20);
      for (const text of responses) assert.ok(!text.includes(canaryText), `canary bytes in ${text}`);
    });
  });

  describe('when a stored artifact is altered', () => {
    it('never serves the altered bytes whole', async () => {
      const model = linearModel({ weights: [1, 2, 3] });
      const registered = await uploadVersion(registry.baseUrl, name, model, {});
      const { sha256 } = registered.body.artifact as { sha256: string };
      const blob = join(registry.artifactRoot, 'sha256', sha256.slice(0, 2), sha256);
      const altered = Buffer.from(readFileSync(blob));
      altered[altered.length - 5] ^= 0xff;
      writeFileSync(blob, altered);

      const response = await fetch(`${registry.baseUrl}/v1/models/${name}/versions/${registered.body.version}/artifact`);
      const body = await response.arrayBuffer().then(
        (bytes) => Buffer.from(bytes),
        () => undefined,
      );
      assert.ok(response.status !== 200 || body === undefined || body.length < altered.length, `served ${body?.length} of ${altered.length} altered bytes with ${response.status}`);
    });
  });

  function canaryPathForCase(): string {
    return canaryPath;
  }
});
