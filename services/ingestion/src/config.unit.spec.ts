import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '@loopline/config';
import { loadConfig } from './config';

describe('ingestion config', () => {
  it('has defaults: 512 MiB per engine query, 2 threads, one ingestion at a time, no imports', () => {
    const config = loadConfig({ LOOPLINE_DATA_DIR: '/var/lib/loopline' });
    assert.deepEqual(
      [config.ingestion.maxMemoryBytes, config.ingestion.threads, config.ingestion.concurrency, config.ingestion.importRoots, config.ingestion.importS3],
      [512 * 1024 * 1024, 2, 1, [], null],
    );
    assert.equal(config.ingestion.artifactRoot, '/var/lib/loopline/artifacts/ingestion');
    assert.equal(config.ingestion.enginePath, '/var/lib/loopline/clickhouse/ingestion-engine');
  });

  it('reads import folders and allowed S3 buckets', () => {
    const config = loadConfig({ LOOPLINE_INGESTION_IMPORT_ROOTS: '/data/a, /data/b', LOOPLINE_INGESTION_IMPORT_S3_BUCKETS: 'raw-data', LOOPLINE_INGESTION_IMPORT_S3_ENDPOINT: 'http://127.0.0.1:9000' });
    assert.deepEqual(config.ingestion.importRoots, ['/data/a', '/data/b']);
    assert.deepEqual([config.ingestion.importS3?.buckets, config.ingestion.importS3?.forcePathStyle], [['raw-data'], true]);
  });

  it('refuses relative import folders and half of an S3 key pair, naming every variable', () => {
    assert.throws(
      () => loadConfig({ LOOPLINE_INGESTION_IMPORT_ROOTS: 'data', LOOPLINE_INGESTION_IMPORT_S3_ACCESS_KEY_ID: 'key', LOOPLINE_INGESTION_MAX_MEMORY_MB: '10' }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /LOOPLINE_INGESTION_IMPORT_ROOTS/.test(error.message) &&
        /LOOPLINE_INGESTION_IMPORT_S3_SECRET_ACCESS_KEY/.test(error.message) &&
        /LOOPLINE_INGESTION_MAX_MEMORY_MB/.test(error.message),
    );
  });
});
