/**
 * Two replicas of the feature store on one database, as a deployment scales them: a write on one
 * (here a push; a materialization writes through the same statement) reaches the online caches of
 * the other, its service API and its online server, through the store's notifications; and while
 * a replica's notification connections are down it reads the store rather than a cache that may be
 * stale. Real: replica A in this process, replica B as a child process, PostgreSQL, Kafka, chDB.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, eventually, freePort, startServiceProcess, testInfra, uniqueName, type ServiceProcess } from '@loopline/testing';
import { definitionsYaml } from './fixtures';
import { queryRows, rest, startFeatureStore, type FeatureStoreUnderTest } from './harness';

describe('two feature-store replicas on one database', () => {
  let a: FeatureStoreUnderTest;
  let b: ServiceProcess;
  let bOnlineUrl: string;
  let postgresUrl: string;

  const sql = <T>(text: string) => queryRows<T>(postgresUrl, text);
  /** The notification connections of both replicas (each: its main thread and its online server). */
  const listeners = async () =>
    Number((await sql<{ n: string }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'loopline-feature-store-%invalidations'`))[0]!.n);
  const push = async (origin: string, lastDelay: number, eventTime: number) => {
    const pushed = await rest(a.baseUrl, 'POST', '/v1/push', { featureView: 'origin_stats', to: 'online', rows: [{ origin, event_time: eventTime, last_delay: lastDelay }] });
    assert.equal(pushed.status, 200, JSON.stringify(pushed.body));
  };
  /** `last_delay` of `origin` as replica B's service API and online server answer it. */
  const readOnB = async (origin: string) => {
    const request = { features: ['origin_stats:last_delay'], entities: { origin: [origin] } };
    const [api, online] = await Promise.all([rest(b.url, 'POST', '/v1/online-features', request), rest(bOnlineUrl, 'POST', '/v1/online-features', request)]);
    assert.equal(api.status, 200, JSON.stringify(api.body));
    assert.equal(online.status, 200, JSON.stringify(online.body));
    return { api: api.body.results[0].values[0] as number | null, online: online.body.results[0].values[0] as number | null };
  };

  before(async () => {
    const infra = testInfra();
    postgresUrl = await createTestDatabase('feature_store_replicas');
    a = await startFeatureStore({ postgresUrl, kafkaBrokers: infra.kafkaBrokers, dataDir: join(infra.dataDir, uniqueName('fs_replica_a')), grpcPort: await freePort() });
    const applied = await rest(a.baseUrl, 'POST', '/v1/definitions/apply', { file: definitionsYaml, fileName: 'features.yaml' });
    assert.equal(applied.status, 200, JSON.stringify(applied.body));
    const onlineHttpPort = await freePort();
    b = await startServiceProcess('feature-store', {
      dataDir: join(infra.dataDir, uniqueName('fs_replica_b')),
      database: 'feature_store_replica_b_unused',
      env: {
        LOOPLINE_POSTGRES_URL: postgresUrl,
        LOOPLINE_FEATURE_STORE_ONLINE_HTTP_PORT: String(onlineHttpPort),
        LOOPLINE_FEATURE_STORE_ONLINE_GRPC_PORT: String(await freePort()),
        LOOPLINE_FEATURE_STORE_CONSUME_DATASET_EVENTS: 'false',
        LOOPLINE_FEATURE_STORE_TASKS: 'false',
      },
    });
    bOnlineUrl = `http://127.0.0.1:${onlineHttpPort}`;
    await eventually(async () => (await fetch(`${bOnlineUrl}/health/ready`).catch(() => undefined))?.ok === true, { timeoutMs: 30_000, what: "replica B's online server" });
    await eventually(async () => (await listeners()) === 4, { timeoutMs: 30_000, what: 'both replicas listening (main thread and online server each)' });
  });

  after(async () => {
    await b?.stop();
    await a?.stop();
  });

  it("serves a push on one replica from the other's caches within moments", async () => {
    assert.deepEqual(await readOnB('R1'), { api: null, online: null });
    assert.deepEqual(await readOnB('R1'), { api: null, online: null }, 'cached as absent on B');
    const now = Date.now();
    await push('R1', 5, now);
    await eventually(async () => JSON.stringify(await readOnB('R1')) === JSON.stringify({ api: 5, online: 5 }), { timeoutMs: 5_000, intervalMs: 20, what: 'the push on A served by B' });
    await push('R1', 6, now + 1_000);
    await eventually(async () => JSON.stringify(await readOnB('R1')) === JSON.stringify({ api: 6, online: 6 }), { timeoutMs: 5_000, intervalMs: 20, what: 'the newer push on A served by B' });
  });

  it('reads the store while its notifications may be missed, and caches again once it listens', async () => {
    const now = Date.now();
    await push('R2', 1, now);
    await eventually(async () => JSON.stringify(await readOnB('R2')) === JSON.stringify({ api: 1, online: 1 }), { timeoutMs: 5_000, intervalMs: 20, what: 'the first value on B' });
    await readOnB('R2'); // cached on B now

    // Every notification connection dropped: a write now is announced to no one.
    const terminated = await sql<{ pg_terminate_backend: boolean }>(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'loopline-feature-store-%invalidations'`,
    );
    assert.equal(terminated.length, 4);
    // Gone before the write (they come back after half a second), so B hears nothing of it.
    await eventually(async () => (await listeners()) === 0, { timeoutMs: 400, intervalMs: 10, what: 'the notification connections gone' });
    await push('R2', 2, now + 1_000);
    await eventually(async () => JSON.stringify(await readOnB('R2')) === JSON.stringify({ api: 2, online: 2 }), { timeoutMs: 5_000, intervalMs: 20, what: 'the unannounced write served by B' });

    await eventually(async () => (await listeners()) === 4, { timeoutMs: 15_000, what: 'the notification connections back' });
    await push('R2', 3, now + 2_000);
    await eventually(async () => JSON.stringify(await readOnB('R2')) === JSON.stringify({ api: 3, online: 3 }), { timeoutMs: 5_000, intervalMs: 20, what: 'a write announced again after the reconnection' });
  });
});
