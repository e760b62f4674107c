/**
 * Redelivery never double-counts: the monitoring service runs as a child process and is killed
 * with SIGKILL while it is writing a backlog of predictions (batches of 20 rows per event, small
 * inserts), so rows are stored whose offsets were never committed; after a restart Kafka
 * redelivers them and the counts are still exact. Real: the service process, Kafka, PostgreSQL,
 * chDB (read at the end from this process, on the service's data folder).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createClickHouseClient } from '@loopline/infra';
import { eventually, stopChildProcess, testInfra, uniqueName } from '@loopline/testing';
import { kafkaForTests, monitoringEnv, predictionMessage, rest, spawnMonitoring, waitReady } from './harness';

const events = 1_000;
const rowsPerEvent = 20;
const total = events * rowsPerEvent;

describe('MonitoringService sink', () => {
  let kafka: Awaited<ReturnType<typeof kafkaForTests>>;
  let env: Record<string, string>;
  const running: ReturnType<typeof spawnMonitoring>[] = [];
  const model = uniqueName('exactly-once').replace(/_/g, '-');
  const dataDir = join(testInfra().dataDir, uniqueName('monitoring_kill'));

  before(async () => {
    kafka = await kafkaForTests();
    env = await monitoringEnv(dataDir, { LOOPLINE_MONITORING_INSERT_ROWS: '500', LOOPLINE_MONITORING_FLUSH_MS: '1000', LOOPLINE_MONITORING_DEFAULT_MONITORS: 'false' });
  });

  after(async () => {
    for (const service of running) await stopChildProcess(service.child);
    await kafka?.close();
  });

  it('keeps counts exact when the service is killed mid-batch and restarted', async (t) => {
    // Recent times: Kafka's time-based retention (7 days by default) deletes segments whose records
    // carry older timestamps, which would take the backlog away under the test.
    const base = Date.now() - events;
    for (let start = 0; start < events; start += 500) {
      const batch = [];
      for (let event = start; event < Math.min(events, start + 500); event += 1) {
        batch.push(
          predictionMessage({
            modelName: model,
            modelVersion: 1,
            inputs: { distance: Array.from({ length: rowsPerEvent }, (_, row) => event * rowsPerEvent + row), origin: Array.from({ length: rowsPerEvent }, () => 'ATL') },
            outputs: { label: Array.from({ length: rowsPerEvent }, () => 1) },
            predictedAtMs: base + event,
          }).message,
        );
      }
      await kafka.producer.publish(batch);
    }

    const first = spawnMonitoring(env);
    running.push(first);
    await waitReady(first.baseUrl, first.child, first.stderr);
    const storedAtKill = await eventually(
      async () => {
        const stats = await rest<{ predictions: number }>(first.baseUrl, 'GET', `/v1/models/${model}/stats`);
        assert.ok(stats.status === 200 && stats.body.predictions > 0, `${stats.status} ${JSON.stringify(stats.body)} ${first.stderr().slice(-1500)}`);
        return stats.body.predictions;
      },
      { timeoutMs: 120_000, intervalMs: 20, what: 'the first rows stored' },
    );
    first.child.kill('SIGKILL');
    await new Promise<void>((resolve) => (first.child.exitCode !== null || first.child.signalCode !== null ? resolve() : first.child.once('exit', () => resolve())));
    t.diagnostic(`killed with ${storedAtKill} of ${total} rows stored`);
    assert.ok(storedAtKill < total, `the kill came after everything was stored (${storedAtKill}); it must land mid-stream`);

    const second = spawnMonitoring(env);
    running.push(second);
    await waitReady(second.baseUrl, second.child, second.stderr);
    await eventually(
      async () => {
        const stats = await rest<{ predictions: number }>(second.baseUrl, 'GET', `/v1/models/${model}/stats`);
        assert.equal(stats.body.predictions, total);
        return true;
      },
      { timeoutMs: 180_000, intervalMs: 500, what: `all ${total} rows stored` },
    );
    // Stays exact once the restarted consumer caught up and committed.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const settled = await rest<{ predictions: number }>(second.baseUrl, 'GET', `/v1/models/${model}/stats`);
    assert.equal(settled.body.predictions, total);
    await stopChildProcess(second.child);

    const clickhouse = createClickHouseClient({ path: join(dataDir, 'clickhouse', 'monitoring') });
    try {
      const result = await clickhouse.query({
        query: `SELECT count() AS stored, uniqExact(prediction_id, row_index) AS distinct_rows, (SELECT count() FROM monitoring.predictions FINAL WHERE model_name = '${model}') AS counted
                FROM monitoring.predictions WHERE model_name = '${model}'`,
        format: 'JSONEachRow',
        clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
      });
      const [row] = await result.json<{ stored: number; distinct_rows: number; counted: number }>();
      t.diagnostic(`rows physically stored ${row!.stored} (redelivered duplicates included), distinct ${row!.distinct_rows}, counted ${row!.counted}`);
      assert.equal(row!.distinct_rows, total);
      assert.equal(row!.counted, total);
      assert.ok(row!.stored >= total);
    } finally {
      await clickhouse.close();
    }
  });
});
