/**
 * A replay of the dataset-version topic, duplicated and out of order, leaves the stores as one
 * clean pass does (REFERENCE FS-1). Two row-level views read the same twelve dataset versions
 * through two sources: `clean` gets each DatasetVersionCreated once, in order; `chaos` gets them
 * shuffled, some delivered twice with the same event id (the inbox drops them), and then the whole
 * topic replayed under new ids (materialization is idempotent). Both end with the same sentinel
 * version, on the same partition, so when it is materialized everything before it was handled.
 * Overlapping versions hold a row as the same values, so the result cannot depend on order.
 * Real: the feature store, PostgreSQL, Kafka, chDB.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { DatasetFormat, DatasetVersionCreatedSchema } from '@loopline/contracts';
import { contractMessage, createEventProducer, createKafkaClient, type EventProducer } from '@loopline/messaging';
import { createTestDatabase, eventually, freePort, testInfra, uniqueName } from '@loopline/testing';
import { seededRandom, tripsStructure } from './fixtures';
import { queryRows, rest, startFeatureStore, type DatasetVersion, type FeatureStoreUnderTest } from './harness';

const definitions = `entities:
  - name: origin
    join_keys: [origin]
feature_views:
${['clean', 'chaos']
  .map(
    (source) => `  - name: ${source}_view
    entities: [origin]
    source: trips_${source}
    timestamp_column: date
    features:
      - name: last_delay
        expression: delay
        type: int64
      - name: distance
        expression: distance
        type: double`,
  )
  .join('\n')}
`;

const origins = Array.from({ length: 8 }, (_, index) => `O${index}`);
const dayStart = Date.parse('2024-05-01T00:00:00Z');
/** Every row's values are a function of its entity and time: overlapping versions agree on it. */
const rowAt = (origin: string, ms: number) => {
  const minutes = (ms - dayStart) / 60_000;
  return { date: new Date(ms).toISOString().replace('T', ' ').replace('Z', ''), origin, destination: 'X', delay: (minutes * 7 + Number(origin.slice(1)) * 13) % 97, distance: minutes + Number(origin.slice(1)) / 10 };
};

describe('a replayed dataset-version topic, duplicated and out of order (FS-1)', () => {
  let store: FeatureStoreUnderTest;
  let producer: EventProducer;
  const versions: DatasetVersion[] = [];
  let sentinel: { clean: DatasetVersion; chaos: DatasetVersion };
  /** The latest event time per origin over every version. */
  const latestMs = new Map<string, number>();

  const sql = <T>(text: string, values: unknown[] = []) => queryRows<T>(store.postgresUrl, text, values);
  const event = (version: DatasetVersion, id: string) =>
    contractMessage({
      topic: 'loopline.ingestion.dataset-versions.v1',
      key: version.source,
      id,
      source: '/test',
      time: new Date(),
      message: create(DatasetVersionCreatedSchema, { sourceName: version.source, datasetVersionId: version.versionId, schemaVersion: 1, rowCount: 1n, format: DatasetFormat.PARQUET, createdAt: timestampFromMs(Date.now()) }),
    });

  before(async () => {
    const infra = testInfra();
    store = await startFeatureStore({
      postgresUrl: await createTestDatabase('feature_store_replay'),
      kafkaBrokers: infra.kafkaBrokers,
      dataDir: join(infra.dataDir, uniqueName('feature_store_replay')),
      grpcPort: await freePort(),
      env: { LOOPLINE_FEATURE_STORE_CONSUME_DATASET_EVENTS: 'true', LOOPLINE_FEATURE_STORE_CONSUMER_GROUP: uniqueName('fs_replay') },
    });
    const applied = await rest(store.baseUrl, 'POST', '/v1/definitions/apply', { file: definitions, fileName: 'replay.yaml' });
    assert.equal(applied.status, 200, JSON.stringify(applied.body));

    // Twelve versions over one day: each a random stretch of 2-6 hours, overlapping the others.
    const random = seededRandom(20_240_501);
    for (let index = 0; index < 12; index += 1) {
      const startMs = dayStart + Math.floor(random() * 18) * 3_600_000;
      const endMs = startMs + (2 + Math.floor(random() * 5)) * 3_600_000;
      const rows = [];
      for (let ms = startMs; ms < endMs; ms += 20 * 60_000) {
        for (const origin of origins) {
          if (random() < 0.3) continue;
          rows.push(rowAt(origin, ms));
          latestMs.set(origin, Math.max(latestMs.get(origin) ?? 0, ms));
        }
      }
      const path = await store.writeParquet(`replay-${index}`, tripsStructure, rows);
      versions.push(await store.ingestion.add('trips_clean', path));
      await store.ingestion.add('trips_chaos', path);
    }
    const sentinelPath = await store.writeParquet('replay-sentinel', tripsStructure, [rowAt('S', dayStart)]);
    sentinel = { clean: await store.ingestion.add('trips_clean', sentinelPath), chaos: await store.ingestion.add('trips_chaos', sentinelPath) };

    const kafka = createKafkaClient({ clientId: uniqueName('fs-replay'), brokers: infra.kafkaBrokers }, store.service.logger);
    producer = createEventProducer(kafka, { logger: store.service.logger });
    await producer.connect();
  });

  after(async () => {
    await producer?.disconnect();
    await store?.stop();
  });

  it('leaves the online and offline stores as one clean pass does, no value moved back in time', async () => {
    const run = uniqueName('replay');
    const chaosOf = (version: DatasetVersion) => ({ ...version, source: 'trips_chaos' });
    await producer.publish([...versions.map((version, index) => event(version, `${run}-clean-${index}`)), event(sentinel.clean, `${run}-clean-sentinel`)]);

    const random = seededRandom(7);
    const shuffled = versions.map((version, index) => ({ version, index, order: random() })).sort((a, b) => a.order - b.order);
    const chaos = shuffled.flatMap(({ version, index }) => {
      const once = event(chaosOf(version), `${run}-chaos-${index}`);
      return index % 4 === 0 ? [once, once] : [once]; // a redelivery: same id
    });
    const replay = [...shuffled].reverse().map(({ version, index }) => event(chaosOf(version), `${run}-replay-${index}`));
    await producer.publish([...chaos, ...replay, event(sentinel.chaos, `${run}-chaos-sentinel`)]);

    await eventually(
      async () => {
        const done = await sql<{ view_name: string }>(
          `SELECT DISTINCT view_name FROM feature_store.materializations WHERE dataset_version_id = $1 AND status = 'completed' ORDER BY view_name`,
          [sentinel.clean.versionId],
        );
        return done.map((row) => row.view_name).join(',') === 'chaos_view,clean_view';
      },
      { timeoutMs: 180_000, intervalMs: 250, what: 'both sentinels materialized' },
    );

    const online = (view: string) =>
      sql<{ entity_key: string; time_ms: number; feature_values: unknown }>(
        `SELECT entity_key, (extract(epoch FROM event_time) * 1000)::float8 AS time_ms, feature_values FROM feature_store.online_features WHERE view_name = $1 ORDER BY entity_key`,
        [view],
      );
    const [clean, chaotic] = await Promise.all([online('clean_view'), online('chaos_view')]);
    assert.equal(clean.length, origins.length + 1);
    assert.deepEqual(chaotic, clean);
    for (const row of chaotic) {
      const origin = (JSON.parse(row.entity_key) as string[])[0]!;
      if (origin !== 'S') assert.equal(row.time_ms, latestMs.get(origin), `${origin}: the latest value of all versions, whatever their order`);
    }

    const offline = async (view: string) => {
      const result = await store.clickhouse.query({
        query: `SELECT dataset_version_id, origin, toUnixTimestamp64Milli(event_time) AS t, last_delay, distance FROM loopline_feature_store.\`fv_${view}__v1\` ORDER BY dataset_version_id, origin, t`,
        format: 'JSONEachRow',
        clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
      });
      return result.json<Record<string, unknown>>();
    };
    const [cleanOffline, chaoticOffline] = await Promise.all([offline('clean_view'), offline('chaos_view')]);
    assert.ok(cleanOffline.length > 100, `${cleanOffline.length} offline rows`);
    assert.deepEqual(chaoticOffline, cleanOffline);

    const completed = await sql<{ view_name: string; n: string }>(
      `SELECT view_name, count(DISTINCT dataset_version_id) AS n FROM feature_store.materializations WHERE status = 'completed' GROUP BY view_name ORDER BY view_name`,
    );
    assert.deepEqual(completed.map((row) => [row.view_name, Number(row.n)]), [['chaos_view', 13], ['clean_view', 13]]);
  });
});
