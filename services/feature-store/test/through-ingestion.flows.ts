// Across two services, over their public surfaces only: the real ingestion service (started as
// its own process) ingests a CSV of flights and publishes DatasetVersionCreated; the feature
// store consumes it, downloads the version over ingestion's REST API (SHA-256 checked) and
// materializes the views reading the source; the features are then read online and joined into a
// training set. Run once per dataset access mode (one spec file each): with `ingestion-url`,
// ClickHouse reads the version from ingestion's real download route itself.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, eventually, freePort, testInfra, uniqueName } from '@loopline/testing';
import type { DatasetAccess } from '../src/application/ports';
import { rest, startFeatureStore, type FeatureStoreUnderTest } from './harness';

const root = resolve(__dirname, '..', '..', '..');

export function describeThroughIngestion(datasetAccess: DatasetAccess): void {
  describe(`FeatureStore with the ingestion service (datasets: ${datasetAccess})`, () => {
    let ingestion: ChildProcess;
    let ingestionUrl: string;
    let store: FeatureStoreUnderTest;
    const source = uniqueName('flights').replace(/_/g, '-');

    before(async () => {
      const infra = testInfra();
      const port = await freePort();
      ingestionUrl = `http://127.0.0.1:${port}`;
      ingestion = spawn(process.execPath, ['-r', '@swc-node/register', join(root, 'services', 'ingestion', 'src', 'main.ts')], {
        cwd: root,
        env: {
          ...process.env,
          LOOPLINE_HOST: '127.0.0.1',
          LOOPLINE_INGESTION_HTTP_PORT: String(port),
          LOOPLINE_INGESTION_GRPC_PORT: String(await freePort()),
          LOOPLINE_POSTGRES_URL: await createTestDatabase('ingestion_for_fs'),
          LOOPLINE_KAFKA_BROKERS: infra.kafkaBrokers.join(','),
          LOOPLINE_DATA_DIR: join(infra.dataDir, uniqueName('ingestion_for_fs')),
          LOOPLINE_LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      await eventually(async () => (await fetch(`${ingestionUrl}/health/live`)).ok, { timeoutMs: 60_000, intervalMs: 250, what: 'ingestion listening' });
      store = await startFeatureStore({
        postgresUrl: await createTestDatabase('feature_store_ing'),
        kafkaBrokers: infra.kafkaBrokers,
        dataDir: join(infra.dataDir, uniqueName('feature_store_ing')),
        grpcPort: await freePort(),
        datasetAccess,
        env: { LOOPLINE_INGESTION_URL: ingestionUrl, LOOPLINE_FEATURE_STORE_CONSUME_DATASET_EVENTS: 'true', LOOPLINE_FEATURE_STORE_CONSUMER_GROUP: uniqueName('fs_ing') },
      });
    });

    after(async () => {
      await store?.stop();
      if (ingestion && ingestion.exitCode === null) {
        ingestion.kill('SIGTERM');
        await new Promise((done) => ingestion.once('exit', done));
      }
    });

    it('materializes what ingestion accepted and serves it online and in training sets', async () => {
      const definitions = `entities:
  - name: origin
    join_keys: [origin]
feature_views:
  - name: origin_delays
    entities: [origin]
    source: ${source}
    timestamp_column: date
    features:
      - name: delay_rate_2h
        aggregate: mean
        expression: delay > 15
        window: 2h
      - name: last_distance
        expression: distance
`;
      assert.equal((await rest(store.baseUrl, 'POST', '/v1/definitions/apply', { file: definitions })).status, 200);
      const schema = {
        columns: [
          { name: 'date', type: 'timestamp', nullable: false },
          { name: 'delay', type: 'int64', nullable: true },
          { name: 'distance', type: 'int64', nullable: false },
          { name: 'origin', type: 'string', nullable: false },
          { name: 'destination', type: 'string', nullable: false },
        ],
        eventTimeColumn: 'date',
        entityColumns: ['origin'],
        policy: {},
      };
      const put = await fetch(`${ingestionUrl}/v1/sources/${source}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(schema) });
      assert.ok(put.ok, await put.text());
      const csv = ['date,delay,distance,origin,destination', '2001-01-01 10:00:00,30,500,ATL,ORD', '2001-01-01 11:00:00,0,600,ATL,DFW', '2001-01-01 11:30:00,20,700,ATL,LAX', '2001-01-01 09:00:00,5,900,ORD,ATL'].join('\n');
      const upload = await fetch(`${ingestionUrl}/v1/sources/${source}/uploads`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: `${csv}\n` });
      const uploaded = (await upload.json()) as { versionId: string; status: string };
      assert.equal(upload.status, 201, JSON.stringify(uploaded));
      assert.equal(uploaded.status, 'CREATED');

      const record = await eventually(
        async () => {
          const list = await rest(store.baseUrl, 'GET', '/v1/materializations?view=origin_delays');
          return list.body.materializations.find((entry: { status: string; datasetVersionId: string }) => entry.status === 'completed' && entry.datasetVersionId === uploaded.versionId);
        },
        { timeoutMs: 60_000, intervalMs: 250, what: 'materialization from the DatasetVersionCreated event' },
      );
      assert.equal(record.offlineRowCount, 4);
      assert.equal(record.onlineRowCount, 2);

      const online = await rest(store.baseUrl, 'POST', '/v1/online-features', { features: ['origin_delays:delay_rate_2h', 'origin_delays:last_distance'], entities: { origin: ['ATL', 'ORD'] } });
      // ATL's latest row is 11:30: of its flights in [09:30, 11:30), one of two left late.
      assert.deepEqual(online.body.results[0].values, [0.5, null]);
      assert.deepEqual(online.body.results[1].values, [700, 900]);

      const trainingSet = await rest(store.baseUrl, 'POST', '/v1/training-sets', { entities: { source, versionId: uploaded.versionId }, features: ['origin_delays:delay_rate_2h'] });
      assert.equal(trainingSet.status, 201, JSON.stringify(trainingSet.body));
      assert.equal(trainingSet.body.rowCount, 4);
      assert.equal(trainingSet.body.recipe.entities.sha256.length, 64);
      const rebuilt = await rest(store.baseUrl, 'POST', `/v1/training-sets/${trainingSet.body.id}/rebuild`);
      assert.deepEqual(rebuilt.body, { id: trainingSet.body.id, rebuiltSha256: trainingSet.body.id, identical: true });

      // Only `local-files` puts the version on the feature store's disk.
      const folder = join(store.dataDir, 'feature-store', 'datasets');
      const downloaded = existsSync(folder) ? readdirSync(folder).filter((name) => name.endsWith('.parquet')) : [];
      assert.equal(downloaded.length, datasetAccess === 'local-files' ? 1 : 0, downloaded.join(', '));
    });
  });
}

