import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '@loopline/config';
import { loadConfig } from './config';

describe('feature-store config', () => {
  describe('dataset access', () => {
    it('reads local files with the embedded chDB, and has ClickHouse fetch from ingestion with a server', () => {
      const embedded = loadConfig({ LOOPLINE_INGESTION_URL: 'http://127.0.0.1:7001' }).featureStore;
      assert.deepEqual([embedded.datasetAccess, embedded.clickhouseDatasetUrl], ['local-files', 'http://127.0.0.1:7001']);
      const server = loadConfig({ LOOPLINE_CLICKHOUSE_URL: 'http://clickhouse:8123', LOOPLINE_INGESTION_URL: 'http://ingestion:7001' }).featureStore;
      assert.deepEqual([server.datasetAccess, server.clickhouseDatasetUrl], ['ingestion-url', 'http://ingestion:7001']);
    });

    it('takes the address under which ClickHouse sees ingestion, and ingestion-url forced on chDB', () => {
      const settings = loadConfig({
        LOOPLINE_FEATURE_STORE_DATASET_ACCESS: 'ingestion-url',
        LOOPLINE_INGESTION_URL: 'http://127.0.0.1:7001',
        LOOPLINE_FEATURE_STORE_CLICKHOUSE_DATASET_URL: 'http://ingestion.cluster.local:7001',
      }).featureStore;
      assert.deepEqual([settings.datasetAccess, settings.ingestionUrl, settings.clickhouseDatasetUrl], ['ingestion-url', 'http://127.0.0.1:7001', 'http://ingestion.cluster.local:7001']);
    });

    it('refuses local-files with a ClickHouse server, and an unknown mode, naming the variable', () => {
      assert.throws(
        () => loadConfig({ LOOPLINE_CLICKHOUSE_URL: 'http://clickhouse:8123', LOOPLINE_FEATURE_STORE_DATASET_ACCESS: 'local-files' }),
        (error: unknown) => error instanceof ConfigError && /LOOPLINE_FEATURE_STORE_DATASET_ACCESS=local-files needs the embedded ClickHouse/.test(error.message),
      );
      assert.throws(
        () => loadConfig({ LOOPLINE_FEATURE_STORE_DATASET_ACCESS: 'nfs' }),
        (error: unknown) => error instanceof ConfigError && /LOOPLINE_FEATURE_STORE_DATASET_ACCESS/.test(error.message),
      );
    });
  });
});
