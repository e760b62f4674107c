import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '@loopline/config';
import { loadConfig } from './config';

describe('registry config', () => {
  it('defaults to a local store under the data folder', () => {
    const config = loadConfig({ LOOPLINE_DATA_DIR: '/srv/loopline' });
    assert.equal(config.registry.artifactRoot, '/srv/loopline/artifacts/registry');
    assert.deepEqual(config.registry.artifactStore, { kind: 'local', root: '/srv/loopline/artifacts/registry' });
    assert.equal(config.registry.maxArtifactBytes, 256 * 1024 * 1024);
    assert.equal(config.httpPort, 7005);
  });

  it('configures an S3-compatible store from the environment', () => {
    const config = loadConfig({
      LOOPLINE_DATA_DIR: '/srv/loopline',
      LOOPLINE_REGISTRY_ARTIFACT_STORE: 's3',
      LOOPLINE_REGISTRY_S3_ENDPOINT: 'http://127.0.0.1:9000',
      LOOPLINE_REGISTRY_S3_BUCKET: 'loopline-models',
      LOOPLINE_REGISTRY_S3_ACCESS_KEY_ID: 'id',
      LOOPLINE_REGISTRY_S3_SECRET_ACCESS_KEY: 'secret',
    });
    assert.deepEqual(config.registry.artifactStore, {
      kind: 's3',
      root: '/srv/loopline/artifacts/registry',
      endpoint: 'http://127.0.0.1:9000',
      region: 'us-east-1',
      bucket: 'loopline-models',
      prefix: 'registry/',
      forcePathStyle: true,
      credentials: { accessKeyId: 'id', secretAccessKey: 'secret' },
    });
  });

  it('lists every bad key at once, the shared ones included', () => {
    assert.throws(
      () => loadConfig({ LOOPLINE_REGISTRY_HTTP_PORT: 'abc', LOOPLINE_REGISTRY_ARTIFACT_STORE: 's3', LOOPLINE_REGISTRY_S3_ACCESS_KEY_ID: 'only-id', LOOPLINE_REGISTRY_MAX_ARTIFACT_BYTES: '-1' }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        const text = error.problems.join('\n');
        for (const key of ['LOOPLINE_REGISTRY_HTTP_PORT', 'LOOPLINE_REGISTRY_S3_BUCKET', 'LOOPLINE_REGISTRY_S3_SECRET_ACCESS_KEY', 'LOOPLINE_REGISTRY_MAX_ARTIFACT_BYTES']) assert.match(text, new RegExp(key));
        return true;
      },
    );
  });
});
