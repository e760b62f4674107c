/**
 * Event store benchmark (`npm run bench:eventstore`). Starts its own Kafka and PostgreSQL on
 * ports of their own (29092/29093, 25432) in a temporary folder, measures, prints a table and
 * stops them. Figures only: nothing here is asserted, and CI never gates on it (CONVENTIONS.md).
 *
 * Measured in one run, on the same server and durability settings (fsync and
 * synchronous_commit on): appends on one stream and on 8 streams, the raw commit rate they are
 * bounded by, the relay's drain rate to Kafka, and append→consume latency at a fixed rate.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Pool } from 'pg';
import { PostgresEventStore } from '@loopline/eventsourcing';
import { startInfrastructure, stopInfrastructure } from '@loopline/infra';
import { appendThroughput } from './append-throughput';
import { endToEndLatency } from './end-to-end-latency';
import { formatNumber } from './measure';
import { rawCommitRate } from './raw-commit-rate';
import { relayThroughput } from './relay-throughput';
import { printReport } from './report';

const appendSeconds = 5;
const relayRows = 50_000;
const relayBatchSize = 1_000;
const latencyRate = 1_000;
const latencySeconds = 10;
const partitions = 6;

function step(title: string): void {
  console.log(`\n▶ ${title}`);
}

async function createTopic(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'loopline-bench-eventstore-'));
  // mkdtemp makes the folder private (0700); run as root, PostgreSQL runs as the `postgres` user
  // and must be able to reach its data folder inside.
  chmodSync(dataDir, 0o755);
  const stop = async () => {
    await stopInfrastructure(dataDir, (line) => console.log(`  [infra] ${line}`));
    rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void stop().finally(() => process.exit(130)));

  step(`starting Kafka and PostgreSQL in ${dataDir}`);
  const infra = await startInfrastructure({
    dataDir,
    kafka: { port: 29092, controllerPort: 29093 },
    postgres: { port: 25432 },
    databases: ['eventstore_bench'],
    log: (line) => console.log(`  [infra] ${line}`),
  });
  const pool = new Pool({ connectionString: infra.postgresUrl('eventstore_bench'), max: 16 });
  const kafka = new Kafka({ clientId: 'bench-eventstore', brokers: infra.kafkaBrokers, logLevel: logLevel.NOTHING });
  try {
    const store = new PostgresEventStore({ pool });
    await store.migrate();
    await Promise.all(Array.from({ length: 16 }, () => pool.query('SELECT 1'))); // open every connection before timing
    const settings = await pool.query<{ name: string; setting: string }>("SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'server_version')");

    // The broker's JVM is still compiling hot paths right after start and competes for the CPU.
    step('warm-up (3 s, not reported)');
    await appendThroughput(store, 'warm-up', 8, 3000);

    step(`appends on 1 stream, sequential, expected version each (${appendSeconds} s)`);
    const oneStream = await appendThroughput(store, '1 stream', 1, appendSeconds * 1000);
    step(`raw PostgreSQL commits, 1 connection (${appendSeconds} s)`);
    const rawOne = await rawCommitRate(pool, 'raw c=1', 1, appendSeconds * 1000);
    step(`appends on 8 streams, 8 connections (${appendSeconds} s)`);
    const eightStreams = await appendThroughput(store, '8 streams', 8, appendSeconds * 1000);
    step(`raw PostgreSQL commits, 8 connections (${appendSeconds} s)`);
    const rawEight = await rawCommitRate(pool, 'raw c=8', 8, appendSeconds * 1000);

    step(`outbox relay to Kafka: drain ${formatNumber(relayRows)} rows`);
    const relayTopic = `bench-relay-${Date.now()}`;
    await createTopic(kafka, relayTopic);
    const relay = await relayThroughput(store, pool, kafka, relayTopic, relayRows, relayBatchSize);

    step(`end-to-end latency at ${formatNumber(latencyRate)} events/s for ${latencySeconds} s (+1 s warm-up)`);
    const latencyTopic = `bench-latency-${Date.now()}`;
    await createTopic(kafka, latencyTopic);
    const latency = await endToEndLatency(store, pool, kafka, latencyTopic, partitions, latencyRate, latencySeconds * 1000);

    printReport({
      conditions: `${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), PostgreSQL ${settings.rows.map((row) => `${row.name}=${row.setting}`).join(', ')}, Kafka 1 broker, topics of ${partitions} partitions, pool 16`,
      oneStream,
      eightStreams,
      rawOne,
      rawEight,
      relay,
      latency,
      latencyRate,
    });
  } finally {
    await pool.end();
    step('stopping');
    await stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
