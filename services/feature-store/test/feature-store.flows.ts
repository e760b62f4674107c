// The feature store through its public REST and gRPC surface, on real Postgres, Kafka and chDB:
// definitions as code, materialization (on demand and event-driven, idempotent), point-in-time
// training sets (hand-built cases and a property test against a naive join), online statuses,
// push, and bad input that leaves nothing half-written. Run once per dataset access mode (one spec
// file each: chDB holds one data folder per process): `local-files` (the embedded default) and
// `ingestion-url` (ClickHouse fetches dataset versions from ingestion itself and training sets
// stream back through the client: the queries a ClickHouse server gets).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { DatasetFormat, DatasetVersionCreatedSchema } from '@loopline/contracts';
import { contractMessage, createEventProducer, createKafkaClient } from '@loopline/messaging';
import { createTestDatabase, eventually, freePort, testInfra, uniqueName } from '@loopline/testing';
import type { DatasetAccess } from '../src/application/ports';
import { clickHouseTime, definitionsYaml, labelsStructure, seededRandom, trips, tripsStructure, at } from './fixtures';
import { getOnline, queryRows, rest, servingClient, startFeatureStore, trainingSetRows, type DatasetVersion, type FeatureStoreUnderTest, type ServingClient } from './harness';

export function describeFeatureStore(datasetAccess: DatasetAccess): void {
  describe(`FeatureStore (datasets: ${datasetAccess})`, () => {
    let store: FeatureStoreUnderTest;
    let grpc: ServingClient;
    let tripsVersion: DatasetVersion;

    const apply = (file: string, fileName = 'features.yaml') => rest(store.baseUrl, 'POST', '/v1/definitions/apply', { file, fileName });
    const materialize = (view: string, datasetVersionId: string) => rest(store.baseUrl, 'POST', '/v1/materializations', { view, datasetVersionId });
    const sql = <T>(text: string, values: unknown[] = []) => queryRows<T>(store.postgresUrl, text, values);
    const offlineCount = async (table: string) => {
      const result = await store.clickhouse.query({ query: `SELECT count() AS n FROM loopline_feature_store.\`${table}\``, format: 'JSONEachRow' });
      return Number((await result.json<{ n: string }>())[0]!.n);
    };

    before(async () => {
      const infra = testInfra();
      store = await startFeatureStore({
        postgresUrl: await createTestDatabase('feature_store'),
        kafkaBrokers: infra.kafkaBrokers,
        dataDir: join(infra.dataDir, uniqueName('feature_store')),
        grpcPort: await freePort(),
        datasetAccess,
        env: { LOOPLINE_FEATURE_STORE_CONSUME_DATASET_EVENTS: 'true', LOOPLINE_FEATURE_STORE_CONSUMER_GROUP: uniqueName('fs_materializer') },
      });
      grpc = servingClient(store.grpcAddress);
      tripsVersion = await store.ingestion.add('trips', await store.writeParquet('trips', tripsStructure, trips));
    });

    after(async () => {
      grpc?.close();
      await store?.stop();
    });

    describe('when definitions are applied', () => {
      it('creates every definition at version 1, then finds nothing to change', async () => {
        const planned = await rest(store.baseUrl, 'POST', '/v1/definitions/plan', { file: definitionsYaml });
        assert.equal(planned.status, 200);
        assert.deepEqual(
          planned.body.changes.map((change: { kind: string; name: string; action: string }) => `${change.kind}:${change.name}:${change.action}`),
          ['entity:origin:create', 'feature_view:origin_stats:create', 'feature_view:origin_profile:create', 'feature_service:delay_model:create'],
        );
        const applied = await apply(definitionsYaml);
        assert.equal(applied.status, 200);
        const again = await rest(store.baseUrl, 'POST', '/v1/definitions/plan', { file: definitionsYaml });
        assert.ok(again.body.changes.every((change: { action: string }) => change.action === 'unchanged'));
      });

      it('publishes FeatureViewApplied through the outbox', async () => {
        await eventually(
          async () => (await sql<{ n: string }>(`SELECT count(*) AS n FROM feature_store.outbox WHERE topic = 'loopline.feature-store.feature-views.v1' AND published_at IS NOT NULL`))[0]!.n === '2',
          { timeoutMs: 20_000, what: 'two FeatureViewApplied published' },
        );
      });

      it('makes a changed view a new version and keeps the old one readable', async () => {
        const changed = definitionsYaml.replace('ttl: 2h', 'ttl: 3h');
        const planned = await rest(store.baseUrl, 'POST', '/v1/definitions/plan', { file: changed });
        const view = planned.body.changes.find((change: { name: string }) => change.name === 'origin_stats');
        assert.deepEqual([view.action, view.fromVersion, view.toVersion, view.differences], ['update', 1, 2, ['ttl: 2h → 3h']]);
        // The feature service in the same file is re-pinned to the new version.
        const service = planned.body.changes.find((change: { name: string }) => change.name === 'delay_model');
        assert.equal(service.action, 'update');
        // Applied to a scratch view name so the other tests keep version 1.
        const scratch = changed.replace(/origin_stats/g, 'scratch_stats').replace(/delay_model/g, 'scratch_model').replace(/  - name: origin_profile[\s\S]*?(?=feature_services)/, '');
        assert.equal((await apply(scratch.replace('ttl: 3h', 'ttl: 2h'))).status, 200);
        assert.equal((await apply(scratch)).status, 200);
        const versions = await rest(store.baseUrl, 'GET', '/v1/feature-views/scratch_stats');
        assert.deepEqual(versions.body.versions.map((version: { version: number; ttl: string }) => [version.version, version.ttl]), [[1, '2h'], [2, '3h']]);
        const old = await rest(store.baseUrl, 'GET', '/v1/feature-views/scratch_stats/versions/1');
        assert.equal(old.body.ttl, '2h');
      });

      it('refuses an invalid file naming the exact place, and applies nothing of it', async () => {
        const broken = `${definitionsYaml.replace('expression: delay > 15', 'expression: delay >> 15').replace('window: 1h\n      - name: flights_1h', 'window: 1 hour\n      - name: flights_1h')}`;
        const response = await apply(broken.replace('name: origin_profile', 'name: never_applied'), 'flights.yaml');
        assert.equal(response.status, 400);
        const texts = response.body.details.problems.map((problem: { text: string }) => problem.text);
        assert.ok(texts.some((text: string) => /^flights\.yaml:17:28 feature_views\[0\]\.features\[1\]\.expression: invalid expression/.test(text)), texts.join('\n'));
        assert.ok(texts.some((text: string) => /^flights\.yaml:\d+:\d+ feature_views\[0\]\.features\[2\]\.window: must be a duration/.test(text)), texts.join('\n'));
        const catalog = await rest(store.baseUrl, 'GET', '/v1/definitions');
        assert.ok(!catalog.body.featureViews.some((view: { name: string }) => view.name === 'never_applied'));
      });

      it('refuses changing the join keys of an entity', async () => {
        const response = await apply('entities:\n  - name: origin\n    join_keys: [airport]\n');
        assert.equal(response.status, 409);
        assert.match(response.body.error, /join keys \[origin\]; they cannot change/);
      });
    });

    describe('when a dataset version is materialized', () => {
      let first: Record<string, unknown>;

      it('writes every row offline and the latest row per entity online, with counts', async () => {
        const response = await materialize('origin_stats', tripsVersion.versionId);
        assert.equal(response.status, 200, JSON.stringify(response.body));
        first = response.body;
        assert.equal(first.status, 'completed');
        assert.equal(first.offlineRowCount, 4);
        assert.equal(first.onlineRowCount, 2);
        assert.deepEqual(first.eventTimeRange, { start: '2024-03-01T09:00:00.000Z', end: '2024-03-01T12:00:00.000Z' });
        assert.equal((await materialize('origin_profile', tripsVersion.versionId)).status, 200);
      });

      it(`reads the dataset version ${datasetAccess === 'local-files' ? 'from its local download' : 'by ClickHouse fetching it from ingestion, never downloading it'}`, async () => {
        const folder = join(store.dataDir, 'feature-store', 'datasets');
        const downloaded = existsSync(folder) ? readdirSync(folder).filter((name) => name.endsWith('.parquet')) : [];
        const fetchedBy = store.ingestion.dataRequests.filter((request) => request.versionId === tripsVersion.versionId).map((request) => request.userAgent);
        assert.ok(fetchedBy.length > 0, 'the version was fetched');
        if (datasetAccess === 'local-files') {
          assert.deepEqual(downloaded, [`${tripsVersion.sha256}.parquet`]);
          assert.ok(fetchedBy.every((agent) => !/clickhouse/i.test(agent)), fetchedBy.join(', '));
        } else {
          assert.deepEqual(downloaded, []);
          assert.ok(fetchedBy.every((agent) => /clickhouse/i.test(agent)), fetchedBy.join(', '));
        }
      });

      it('changes nothing when the same version is materialized again', async () => {
        const before = await sql<{ updated_at: Date }>(`SELECT updated_at FROM feature_store.online_features ORDER BY view_name, entity_key`);
        const again = await materialize('origin_stats', tripsVersion.versionId);
        assert.equal(again.status, 200);
        assert.equal(again.body.id, first.id);
        assert.equal(await offlineCount('fv_origin_stats__v1'), 4);
        assert.deepEqual(await sql(`SELECT updated_at FROM feature_store.online_features ORDER BY view_name, entity_key`), before);
        const completed = await sql<{ n: string }>(`SELECT count(*) AS n FROM feature_store.materializations WHERE view_name = 'origin_stats' AND status = 'completed'`);
        assert.equal(completed[0]!.n, '1');
      });

      it('publishes MaterializationCompleted', async () => {
        await eventually(
          async () => Number((await sql<{ n: string }>(`SELECT count(*) AS n FROM feature_store.outbox WHERE topic = 'loopline.feature-store.materializations.v1' AND published_at IS NOT NULL`))[0]!.n) >= 2,
          { timeoutMs: 20_000, what: 'MaterializationCompleted published' },
        );
      });

      it('refuses a corrupt Parquet file and leaves nothing visible', async () => {
        const path = join(store.dataDir, 'corrupt.parquet');
        await writeFile(path, Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(200, 7), Buffer.from('PAR1')]));
        const corrupt = await store.ingestion.add('trips', path);
        const response = await materialize('origin_stats', corrupt.versionId);
        assert.equal(response.status, 400);
        assert.match(response.body.error, /not readable Parquet/);
        const partitions = await store.clickhouse.query({ query: `SELECT count() AS n FROM loopline_feature_store.fv_origin_stats__v1 WHERE dataset_version_id = '${corrupt.versionId}'`, format: 'JSONEachRow' });
        assert.equal(Number((await partitions.json<{ n: string }>())[0]!.n), 0);
        const online = await sql(`SELECT 1 FROM feature_store.online_features WHERE dataset_version_id = $1`, [corrupt.versionId]);
        assert.equal(online.length, 0);
        const failed = await sql<{ status: string }>(`SELECT status FROM feature_store.materializations WHERE dataset_version_id = $1`, [corrupt.versionId]);
        assert.deepEqual(failed.map((row) => row.status), ['failed']);
      });

      it('refuses a dataset version that lacks a column the view reads, or has the wrong type, naming the problem and leaving nothing visible', async () => {
        const withoutDelay = await store.ingestion.add(
          'trips',
          await store.writeParquet('trips-without-delay', "date DateTime64(3, 'UTC'), origin String, destination String, distance Float64", trips.map(({ delay: _delay, ...row }) => row)),
        );
        const missing = await materialize('origin_stats', withoutDelay.versionId);
        assert.equal(missing.status, 400);
        assert.match(missing.body.error, /feature view "origin_stats" v1 reads column\(s\) the dataset does not have: delay \(feature last_delay\); it has: date, origin, destination, distance/);
        const textDelay = await store.ingestion.add(
          'trips',
          await store.writeParquet('trips-text-delay', tripsStructure.replace('delay Int32', 'delay String'), trips.map((row) => ({ ...row, delay: `${row.delay} min` }))),
        );
        const mistyped = await materialize('origin_stats', textDelay.versionId);
        assert.equal(mistyped.status, 400);
        assert.match(mistyped.body.error, /^materializing feature view "origin_stats" v1 failed: /);
        for (const version of [withoutDelay, textDelay]) {
          const rows = await store.clickhouse.query({ query: `SELECT count() AS n FROM loopline_feature_store.fv_origin_stats__v1 WHERE dataset_version_id = '${version.versionId}'`, format: 'JSONEachRow' });
          assert.equal(Number((await rows.json<{ n: string }>())[0]!.n), 0);
          assert.deepEqual(await sql(`SELECT 1 FROM feature_store.online_features WHERE dataset_version_id = $1`, [version.versionId]), []);
          const failed = await sql<{ status: string }>(`SELECT status FROM feature_store.materializations WHERE dataset_version_id = $1`, [version.versionId]);
          assert.deepEqual(failed.map((row) => row.status), ['failed']);
        }
        // No staging table is left behind.
        const stages = await store.clickhouse.query({ query: `SELECT count() AS n FROM system.tables WHERE database = 'loopline_feature_store' AND name LIKE 'stage\\_%'`, format: 'JSONEachRow' });
        assert.equal(Number((await stages.json<{ n: string }>())[0]!.n), 0);
      });

      it('answers 503 while the dataset version cannot be fetched, and materializes it once it can', async () => {
        const later = await store.ingestion.add('trips', await store.writeParquet('trips-later', tripsStructure, trips.slice(0, 3)));
        store.ingestion.dataUnavailable = true;
        try {
          const response = await materialize('origin_stats', later.versionId);
          assert.equal(response.status, 503, JSON.stringify(response.body));
          assert.equal(response.body.code, 'UNAVAILABLE');
        } finally {
          store.ingestion.dataUnavailable = false;
        }
        const retried = await materialize('origin_stats', later.versionId);
        assert.equal(retried.status, 200, JSON.stringify(retried.body));
        assert.equal(retried.body.offlineRowCount, 3);
      });

      it('refuses a download whose SHA-256 differs from the described one', async () => {
        const path = await store.writeParquet('tampered', tripsStructure, trips.slice(0, 2));
        const tampered = await store.ingestion.add('trips', path, 'date', { sha256: '0'.repeat(64) });
        const response = await materialize('origin_stats', tampered.versionId);
        assert.equal(response.status, 500);
        assert.equal(response.body.code, 'DATA_LOSS');
      });

      it('materializes every view reading the source on DatasetVersionCreated', async () => {
        const rows = [...trips, { date: at('13:00:00.000'), origin: 'B', destination: 'Y', delay: 25, distance: 310 }];
        const version = await store.ingestion.add('trips', await store.writeParquet('trips-2', tripsStructure, rows));
        const kafka = createKafkaClient({ clientId: 'fs-test', brokers: testInfra().kafkaBrokers }, store.service.logger);
        const producer = createEventProducer(kafka, { logger: store.service.logger });
        await producer.connect();
        try {
          const message = create(DatasetVersionCreatedSchema, {
            sourceName: 'trips',
            datasetVersionId: version.versionId,
            schemaVersion: 1,
            rowCount: BigInt(rows.length),
            format: DatasetFormat.PARQUET,
            createdAt: timestampFromMs(Date.now()),
          });
          // An id of this run: the other access mode's spec publishes the same dataset version on
          // the same Kafka, and its event, read from the beginning, must not take this one's id.
          const outgoing = contractMessage({ topic: 'loopline.ingestion.dataset-versions.v1', key: 'trips', id: uniqueName(`test-${version.versionId.slice(0, 12)}`), source: '/test', time: new Date(), message });
          // Twice: the second delivery is a duplicate the inbox drops.
          await producer.publish([outgoing]);
          await producer.publish([outgoing]);
        } finally {
          await producer.disconnect();
        }
        await eventually(
          async () => {
            const done = await sql<{ view_name: string }>(`SELECT view_name FROM feature_store.materializations WHERE dataset_version_id = $1 AND status = 'completed' ORDER BY view_name`, [version.versionId]);
            return done.map((row) => row.view_name).join(',') === 'origin_profile,origin_stats,scratch_stats';
          },
          { timeoutMs: 60_000, what: 'views materialized from the event' },
        );
      });
    });

    describe('when features are read online', () => {
      it('answers PRESENT, NULL_VALUE, NOT_FOUND and OUTSIDE_TTL over REST', async () => {
        const response = await rest(store.baseUrl, 'POST', '/v1/online-features', {
          features: ['origin_profile:last_distance', 'origin_profile:mean_delay_1h', 'origin_stats:last_delay'],
          entities: { origin: ['A', 'Z'] },
        });
        assert.equal(response.status, 200, JSON.stringify(response.body));
        assert.deepEqual(response.body.metadata.featureNames, ['origin_profile:last_distance', 'origin_profile:mean_delay_1h', 'origin_stats:last_delay']);
        const [distance, mean, delay] = response.body.results;
        assert.deepEqual(distance.values, [120, null]);
        assert.deepEqual(distance.statuses, ['PRESENT', 'NOT_FOUND']);
        assert.deepEqual(distance.eventTimestamps, ['2024-03-01T12:00:00.000Z', null]);
        // A's latest row (12:00) has no delay in the hour before it.
        assert.deepEqual(mean.statuses, ['NULL_VALUE', 'NOT_FOUND']);
        // origin_stats has a 2 h TTL and its rows are from 2024.
        assert.deepEqual(delay.statuses, ['OUTSIDE_TTL', 'NOT_FOUND']);
        assert.deepEqual(delay.values, [null, null]);
      });

      it('serves a feature service over gRPC, pinned to the versions it was applied with', async () => {
        const response = await getOnline(grpc, { featureService: 'delay_model', entities: { origin: { values: ['B'] } } });
        assert.deepEqual(response.featureNames, ['origin_stats:last_delay', 'origin_stats:delayed', 'origin_stats:mean_delay_1h', 'origin_stats:flights_1h', 'origin_profile:last_distance']);
        assert.equal(response.results[4]!.valueType, 'FEATURE_VALUE_TYPE_DOUBLE');
        assert.deepEqual(response.results[4]!.doubleValues, [310]);
        assert.deepEqual(response.results[4]!.eventTimestampsMs, [String(Date.parse('2024-03-01T13:00:00.000Z'))]);
        assert.deepEqual(response.results[4]!.statuses, ['FIELD_STATUS_PRESENT']);
        assert.deepEqual(response.results[0]!.statuses, ['FIELD_STATUS_OUTSIDE_TTL']);
      });

      it('refuses an unknown feature reference naming it', async () => {
        const response = await rest(store.baseUrl, 'POST', '/v1/online-features', { features: ['origin_stats:nope'], entities: { origin: ['A'] } });
        assert.equal(response.status, 400);
        assert.match(response.body.error, /feature view "origin_stats" has no feature "nope"/);
        await assert.rejects(getOnline(grpc, { features: { references: ['nowhere:x'] }, entities: { origin: { values: ['A'] } } }), (error: Error & { code?: number }) => {
          assert.equal(error.code, 3);
          assert.match(error.message, /unknown feature view "nowhere"/);
          return true;
        });
      });

      it('serves pushed values at once, and keeps the newer value when an older one arrives', async () => {
        const now = Date.now();
        const pushed = await rest(store.baseUrl, 'POST', '/v1/push', {
          featureView: 'origin_stats',
          to: 'online_and_offline',
          rows: [{ origin: 'Q', event_time: new Date(now).toISOString(), last_delay: 7, delayed: false }],
        });
        assert.equal(pushed.status, 200, JSON.stringify(pushed.body));
        assert.deepEqual(pushed.body, { onlineRowCount: 1, offlineRowCount: 1 });
        const offline = await store.clickhouse.query({
          query: `SELECT toUnixTimestamp64Milli(event_time) AS ms, last_delay FROM loopline_feature_store.fv_origin_stats__v1 WHERE dataset_version_id = 'push' AND origin = 'Q'`,
          format: 'JSONEachRow',
          clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
        });
        assert.deepEqual(await offline.json(), [{ ms: now, last_delay: 7 }]);
        await rest(store.baseUrl, 'POST', '/v1/push', { featureView: 'origin_stats', to: 'online', rows: [{ origin: 'Q', event_time: now - 60_000, last_delay: 99 }] });
        const response = await rest(store.baseUrl, 'POST', '/v1/online-features', { features: ['origin_stats:last_delay'], entities: { origin: ['Q'] } });
        assert.deepEqual(response.body.results[0].values, [7]);
        assert.deepEqual(response.body.results[0].statuses, ['PRESENT']);
        const bad = await rest(store.baseUrl, 'POST', '/v1/push', { featureView: 'origin_stats', rows: [{ origin: 'Q', event_time: now, last_delay: 'late' }] });
        assert.equal(bad.status, 400);
        assert.match(bad.body.error, /rows\[0\]\.last_delay must be of type int64/);
      });

      it('answers the same lookups on the online server (its own ports, a worker thread) over REST and gRPC', async () => {
        const online = store.online!;
        assert.ok(online, 'the online server listens');
        const request = { features: ['origin_profile:last_distance', 'origin_profile:mean_delay_1h', 'origin_stats:last_delay'], entities: { origin: ['A', 'Z'] } };
        const [main, worker] = await Promise.all([rest(store.baseUrl, 'POST', '/v1/online-features', request), rest(online.httpUrl, 'POST', '/v1/online-features', request)]);
        assert.equal(worker.status, 200, JSON.stringify(worker.body));
        assert.deepEqual(worker.body, main.body);
        const onlineGrpc = servingClient(online.grpcAddress);
        try {
          const grpcRequest = { featureService: 'delay_model', entities: { origin: { values: ['B', 'nobody'] } } };
          assert.deepEqual(await getOnline(onlineGrpc, grpcRequest), await getOnline(grpc, grpcRequest));
          await assert.rejects(new Promise((resolve, reject) => (onlineGrpc as unknown as { PushFeatures: (r: unknown, cb: (e: unknown, v: unknown) => void) => void }).PushFeatures({ featureView: 'origin_stats' }, (error, value) => (error ? reject(error) : resolve(value)))), (error: Error & { code?: number }) => {
            assert.equal(error.code, 3);
            assert.match(error.message, /the online server only reads: push to the feature store's own gRPC port/);
            return true;
          });
        } finally {
          onlineGrpc.close();
        }
      });

      it('serves a push on the online server at once: the write invalidates its cache across threads', async () => {
        const online = store.online!;
        const read = async () => (await rest(online.httpUrl, 'POST', '/v1/online-features', { features: ['origin_stats:last_delay'], entities: { origin: ['W'] } })).body.results[0];
        assert.deepEqual((await read()).statuses, ['NOT_FOUND']);
        // Cached now as absent; the push must make the worker forget it.
        assert.deepEqual((await read()).statuses, ['NOT_FOUND']);
        const now = Date.now();
        const pushed = await rest(store.baseUrl, 'POST', '/v1/push', { featureView: 'origin_stats', to: 'online', rows: [{ origin: 'W', event_time: now, last_delay: 11 }] });
        assert.equal(pushed.status, 200, JSON.stringify(pushed.body));
        // The invalidation crosses to the worker by message: eventually, and within moments.
        await eventually(async () => JSON.stringify((await read()).values) === '[11]', { timeoutMs: 5_000, intervalMs: 20, what: 'the pushed value on the online server' });
        await rest(store.baseUrl, 'POST', '/v1/push', { featureView: 'origin_stats', to: 'online', rows: [{ origin: 'W', event_time: now + 1_000, last_delay: 12 }] });
        await eventually(async () => JSON.stringify((await read()).values) === '[12]', { timeoutMs: 5_000, intervalMs: 20, what: 'the newer pushed value on the online server' });
      });

      it('refuses bad input on the online server with the error naming the problem', async () => {
        const online = store.online!;
        const post = async (body: string) => {
          const response = await fetch(`${online.httpUrl}/v1/online-features`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
          return { status: response.status, body: (await response.json()) as { error: string; code: string } };
        };
        const notJson = await post('{"features": [');
        assert.equal(notJson.status, 400);
        assert.match(notJson.body.error, /the request body is not JSON/);
        const unknownField = await post(JSON.stringify({ features: ['origin_stats:last_delay'], entities: { origin: ['A'] }, extra: 1 }));
        assert.equal(unknownField.status, 400);
        assert.match(unknownField.body.error, /unknown field\(s\) extra/);
        const unknownFeature = await post(JSON.stringify({ features: ['origin_stats:nope'], entities: { origin: ['A'] } }));
        assert.equal(unknownFeature.status, 400);
        assert.match(unknownFeature.body.error, /feature view "origin_stats" has no feature "nope"/);
        const missingKey = await post(JSON.stringify({ features: ['origin_stats:last_delay'], entities: { airport: ['A'] } }));
        assert.equal(missingKey.status, 400);
        assert.match(missingKey.body.error, /needs entity key "origin"/);
        const tooLarge = await post(JSON.stringify({ features: ['origin_stats:last_delay'], entities: { origin: ['x'.repeat(1_100_000)] } }));
        assert.equal(tooLarge.status, 413);
        assert.equal((await fetch(`${online.httpUrl}/v1/online-features`)).status, 405);
        const elsewhere = await fetch(`${online.httpUrl}/v1/push`, { method: 'POST', body: '{}' });
        assert.equal(elsewhere.status, 404);
        assert.match(((await elsewhere.json()) as { error: string }).error, /it serves POST \/v1\/online-features/);
      });
    });

    describe('when a training set is built', () => {
      let labels: DatasetVersion;
      const labelRows = [
        { date: at('10:30:00.000'), origin: 'A', label: 1 }, // value exactly at the label time
        { date: at('10:29:59.999'), origin: 'A', label: 0 }, // the 10:30 row is just after it
        { date: at('11:59:00.000'), origin: 'A', label: 1 }, // within the TTL
        { date: at('14:31:00.000'), origin: 'A', label: 0 }, // outside the 2 h TTL
        { date: at('11:00:00.000'), origin: 'C', label: 0 }, // no history at all
        { date: at('08:00:00.000'), origin: 'B', label: 1 }, // before the entity's first row
        { date: at('12:00:00.000'), origin: 'A', label: 1 }, // empty 1 h window before it
      ];

      before(async () => {
        labels = await store.ingestion.add('labels', await store.writeParquet('labels', labelsStructure, labelRows));
      });

      it('joins features as known at each row, never from the future, withheld beyond the TTL', async () => {
        const response = await rest(store.baseUrl, 'POST', '/v1/training-sets', {
          entities: { source: 'labels', versionId: labels.versionId },
          features: ['origin_stats:last_delay', 'origin_stats:mean_delay_1h', 'origin_stats:flights_1h'],
          datasetVersions: { origin_stats: tripsVersion.versionId },
        });
        assert.equal(response.status, 201, JSON.stringify(response.body));
        assert.match(response.body.id, /^[0-9a-f]{64}$/);
        assert.equal(response.body.rowCount, labelRows.length);
        assert.deepEqual(response.body.recipe.views, [{ view: 'origin_stats', version: 1, datasetVersionId: tripsVersion.versionId, pushHorizon: response.body.recipe.views[0].pushHorizon, ttlSeconds: 7200 }]);
        const rows = await trainingSetRows(store, response.body.id);
        assert.deepEqual(
          rows.map((row) => [row.origin, row.label, row.origin_stats__last_delay, row.origin_stats__mean_delay_1h, row.origin_stats__flights_1h]),
          [
            ['A', 1, 20, 10, 1],
            ['A', 0, 10, null, 0],
            ['A', 1, 20, 10, 1],
            ['A', 0, null, null, null],
            ['C', 0, null, null, null],
            ['B', 1, null, null, null],
            ['A', 1, 40, null, 0],
          ],
        );
      });

      it('reads the entity rows of several dataset versions one after the other with versionId "all"', async () => {
        const firstBatch = await store.ingestion.add('labels_batched', await store.writeParquet('labels-batch-1', labelsStructure, labelRows.slice(0, 4)));
        const secondBatch = await store.ingestion.add('labels_batched', await store.writeParquet('labels-batch-2', labelsStructure, labelRows.slice(4)));
        const response = await rest(store.baseUrl, 'POST', '/v1/training-sets', {
          entities: { source: 'labels_batched', versionId: 'all' },
          features: ['origin_stats:last_delay', 'origin_stats:flights_1h'],
          datasetVersions: { origin_stats: tripsVersion.versionId },
        });
        assert.equal(response.status, 201, JSON.stringify(response.body));
        assert.equal(response.body.rowCount, labelRows.length);
        assert.deepEqual(response.body.recipe.entities.versions.map((version: { versionId: string }) => version.versionId), [firstBatch.versionId, secondBatch.versionId]);
        const rows = await trainingSetRows(store, response.body.id);
        // The rows, in the same order, of the one version holding all of them (features fewer than the
        // earlier set's: equal bytes would answer that content-addressed set and its recipe).
        assert.deepEqual(
          rows.map((row) => [row.origin, row.label, row.origin_stats__last_delay, row.origin_stats__flights_1h]),
          [
            ['A', 1, 20, 1],
            ['A', 0, 10, 0],
            ['A', 1, 20, 1],
            ['A', 0, null, null],
            ['C', 0, null, null],
            ['B', 1, null, null],
            ['A', 1, 40, 0],
          ],
        );
        const rebuilt = await rest(store.baseUrl, 'POST', `/v1/training-sets/${response.body.id}/rebuild`);
        assert.deepEqual(rebuilt.body, { id: response.body.id, rebuiltSha256: response.body.id, identical: true });
      });

      it('is content-addressed and rebuilds bit for bit from its recipe', async () => {
        const request = { entities: { source: 'labels', versionId: labels.versionId }, featureService: 'delay_model', datasetVersions: { origin_stats: tripsVersion.versionId, origin_profile: tripsVersion.versionId } };
        const first = await rest(store.baseUrl, 'POST', '/v1/training-sets', request);
        const second = await rest(store.baseUrl, 'POST', '/v1/training-sets', request);
        assert.equal(first.status, 201, JSON.stringify(first.body));
        assert.equal(second.body.id, first.body.id);
        const rebuilt = await rest(store.baseUrl, 'POST', `/v1/training-sets/${first.body.id}/rebuild`);
        assert.deepEqual(rebuilt.body, { id: first.body.id, rebuiltSha256: first.body.id, identical: true });
        const fetched = await rest(store.baseUrl, 'GET', `/v1/training-sets/${first.body.id}`);
        assert.equal(fetched.body.recipe.featureService, 'delay_model');
        assert.match(fetched.body.recipe.query, /ASOF LEFT JOIN/);

        // The recipe's query gives the same bytes written by the engine (`local-files`) or streamed
        // back through the client (`ingestion-url`), so a set built in one mode rebuilds in the other.
        const query = (fetched.body.recipe.query as string).split('{{entities}}').join(`file('${labels.path}', 'Parquet')`);
        const settings = { max_threads: 1, join_use_nulls: 1, output_format_parquet_row_group_size: '100000' } as const;
        const written = join(store.dataDir, 'recipe-written.parquet');
        await store.clickhouse.command({ query: `INSERT INTO FUNCTION file('${written}', 'Parquet') ${query}`, clickhouse_settings: { ...settings, engine_file_truncate_on_insert: 1 } });
        const streamed = await store.clickhouse.exec({ query: `${query}\nFORMAT Parquet`, clickhouse_settings: settings });
        const chunks: Buffer[] = [];
        for await (const chunk of streamed.stream) chunks.push(chunk as Buffer);
        const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
        assert.equal(sha256(await readFile(written)), first.body.id);
        assert.equal(sha256(Buffer.concat(chunks)), first.body.id);
      });

      it('matches a naive point-in-time join on random data', async () => {
        const random = seededRandom(20240301);
        const start = Date.UTC(2024, 3, 1);
        const used = new Set<number>();
        const distinctTime = () => {
          for (;;) {
            const ms = start + Math.floor(random() * 10 * 3_600_000);
            if (!used.has(ms)) {
              used.add(ms);
              return ms;
            }
          }
        };
        const origins = ['P', 'Q', 'R'];
        const source = Array.from({ length: 80 }, () => ({ ms: distinctTime(), origin: origins[Math.floor(random() * 3)]!, delay: Math.floor(random() * 60) - 10 }));
        const entities = Array.from({ length: 60 }, (_, index) => ({
          // Some label times fall exactly on a feature row's time.
          ms: index % 5 === 0 ? source[index]!.ms : start + Math.floor(random() * 11 * 3_600_000),
          origin: index % 7 === 0 ? 'S' : origins[Math.floor(random() * 3)]!,
          label: index % 2,
        }));
        const version = await store.ingestion.add(
          'random_trips',
          await store.writeParquet('random-trips', tripsStructure, source.map((row) => ({ date: clickHouseTime(row.ms), origin: row.origin, destination: 'X', delay: row.delay, distance: 1 }))),
        );
        const entityVersion = await store.ingestion.add('random_labels', await store.writeParquet('random-labels', labelsStructure, entities.map((row) => ({ date: clickHouseTime(row.ms), origin: row.origin, label: row.label }))));
        const randomView = definitionsYaml
          .replace(/origin_stats/g, 'random_stats')
          .replace('source: trips', 'source: random_trips')
          .replace(/  - name: origin_profile[\s\S]*$/, '');
        assert.equal((await apply(randomView)).status, 200);
        assert.equal((await materialize('random_stats', version.versionId)).status, 200);
        const built = await rest(store.baseUrl, 'POST', '/v1/training-sets', { entities: { source: 'random_labels', versionId: entityVersion.versionId }, features: ['random_stats'] });
        assert.equal(built.status, 201, JSON.stringify(built.body));
        const rows = await trainingSetRows(store, built.body.id);

        const ttlMs = 2 * 3_600_000;
        const expected = entities.map((entity) => {
          const history = source.filter((row) => row.origin === entity.origin && row.ms <= entity.ms).sort((a, b) => a.ms - b.ms);
          const match = history.at(-1);
          if (!match || entity.ms - match.ms > ttlMs) return [null, null, null, null];
          const window = source.filter((row) => row.origin === entity.origin && row.ms >= match.ms - 3_600_000 && row.ms < match.ms);
          const mean = window.length === 0 ? null : window.reduce((sum, row) => sum + row.delay, 0) / window.length;
          return [match.delay, match.delay > 15, mean, window.length];
        });
        assert.equal(rows.length, entities.length);
        rows.forEach((row, index) => {
          const actual = [row.random_stats__last_delay, row.random_stats__delayed, row.random_stats__mean_delay_1h, row.random_stats__flights_1h];
          const wanted = expected[index]!;
          assert.equal(row.origin, entities[index]!.origin, `row ${index} order`);
          assert.equal(actual[0], wanted[0], `row ${index} last_delay`);
          assert.equal(actual[1], wanted[1], `row ${index} delayed`);
          if (wanted[2] === null) assert.equal(actual[2], null, `row ${index} mean`);
          else assert.ok(Math.abs((actual[2] as number) - (wanted[2] as number)) < 1e-9, `row ${index} mean ${actual[2]} vs ${wanted[2]}`);
          assert.equal(actual[3], wanted[3], `row ${index} count`);
        });
      });

      it('refuses features of a view that was never materialized', async () => {
        const response = await rest(store.baseUrl, 'POST', '/v1/training-sets', { entities: { source: 'labels', versionId: labels.versionId }, features: ['scratch_stats@v1:last_delay'] });
        assert.equal(response.status, 400);
        assert.match(response.body.error, /never been materialized|no materialized rows/);
      });
    });
  });
}
