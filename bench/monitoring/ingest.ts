// The monitoring ingest benchmark: prediction-log rows from Kafka into ClickHouse (chDB) through
// the monitoring service's sink, end to end (decode the CloudEvents, split batches into rows,
// batched inserts, offsets committed after the insert). A backlog of `PredictionLogged` events
// (50 rows each, 10 inputs, four models) is published first; the service then starts and its
// stats endpoint (exact counts: FINAL) is polled until every row is stored.
// Printed: rows/s from the first stored row to the last (goal ≥ 100,000), and including start-up.
//
//   node -r @swc-node/register bench/monitoring/ingest.ts      (INGEST_BENCH_ROWS=… for another size)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, type JsonObject } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { encodeEvent, PredictionLoggedSchema, TrafficRole } from '@loopline/contracts';
import { startInfrastructure, stopInfrastructure } from '@loopline/infra';
import { createEventProducer, createKafkaClient, ensureTopics } from '@loopline/messaging';
import { startService } from '@loopline/service-host';
import { freePort } from '@loopline/testing';
import pino from 'pino';
import { loadConfig } from '../../services/monitoring/src/config';
import { monitoringService } from '../../services/monitoring/src/monitoring-service';

const rowsPerEvent = 50;
const models = ['bench-a', 'bench-b', 'bench-c', 'bench-d'];

export interface IngestBenchResult {
  readonly rows: number;
  readonly rowsPerSecond: number;
  readonly rowsPerSecondWithStartup: number;
  readonly seconds: number;
}

export async function runIngestBench(options: { rows?: number; log?: (line: string) => void } = {}): Promise<IngestBenchResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const events = Math.ceil((options.rows ?? Number(process.env.INGEST_BENCH_ROWS ?? 500_000)) / rowsPerEvent);
  const total = events * rowsPerEvent;
  const dataDir = mkdtempSync(join(tmpdir(), 'loopline-ingest-bench-'));
  const infra = await startInfrastructure({
    dataDir,
    kafka: { port: await freePort(), controllerPort: await freePort() },
    postgres: { port: await freePort() },
    databases: ['monitoring_bench'],
    log: (line) => log(`  [infra] ${line}`),
  });
  const logger = pino({ level: 'warn' });
  try {
    const kafka = createKafkaClient({ clientId: 'bench-monitoring', brokers: infra.kafkaBrokers }, logger);
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic: 'loopline.serving.predictions.v1', numPartitions: 12, replicationFactor: 1 }, { topic: 'loopline.feedback.labels.v1', numPartitions: 12, replicationFactor: 1 }]);
    await admin.disconnect();
    const producer = createEventProducer(kafka, { logger });
    await producer.connect();
    log(`publishing ${events.toLocaleString('en-US')} PredictionLogged events of ${rowsPerEvent} rows (${total.toLocaleString('en-US')} rows)…`);
    const base = Date.UTC(2026, 2, 1);
    for (let start = 0; start < events; start += 200) {
      const batch = [];
      for (let event = start; event < Math.min(events, start + 200); event += 1) {
        const inputs: JsonObject = {};
        for (let feature = 0; feature < 8; feature += 1) inputs[`f${feature}`] = Array.from({ length: rowsPerEvent }, (_, row) => [((event * rowsPerEvent + row) * (feature + 1)) % 997]);
        inputs.origin = Array.from({ length: rowsPerEvent }, (_, row) => [['ATL', 'ORD', 'SFO', 'JFK'][row % 4]!]);
        inputs.carrier = Array.from({ length: rowsPerEvent }, (_, row) => [['AA', 'UA', 'DL'][(event + row) % 3]!]);
        const modelName = models[event % models.length]!;
        const predictionId = `bench-${event}`;
        const message = create(PredictionLoggedSchema, {
          predictionId,
          modelName,
          modelVersion: 1,
          trafficRole: TrafficRole.PRIMARY,
          inputs,
          outputs: { label: Array.from({ length: rowsPerEvent }, (_, row) => (row % 2)), probabilities: Array.from({ length: rowsPerEvent }, (_, row) => [0.5 - row / 200, 0.5 + row / 200]) },
          latencyMs: 2,
          predictedAt: timestampFromMs(base + event),
        });
        batch.push({ topic: 'loopline.serving.predictions.v1' as const, ...encodeEvent({ topic: 'loopline.serving.predictions.v1', key: modelName, id: predictionId, source: '/bench', time: new Date(base + event), message }) });
      }
      await producer.publish(batch);
    }
    await producer.disconnect();

    const started = Date.now();
    const service = await startService(
      monitoringService(() =>
        loadConfig({
          LOOPLINE_HOST: '127.0.0.1',
          LOOPLINE_MONITORING_HTTP_PORT: '0',
          LOOPLINE_MONITORING_GRPC_PORT: '0',
          LOOPLINE_POSTGRES_URL: infra.postgresUrl('monitoring_bench'),
          LOOPLINE_KAFKA_BROKERS: infra.kafkaBrokers.join(','),
          LOOPLINE_DATA_DIR: dataDir,
          LOOPLINE_LOG_LEVEL: 'warn',
          LOOPLINE_MONITORING_DEFAULT_MONITORS: 'false',
          LOOPLINE_MONITORING_EVALUATION_INTERVAL_MS: '60000',
        }),
      ),
    );
    try {
      const count = async () => {
        let sum = 0;
        for (const model of models) {
          const response = await fetch(`${service.httpUrl}/v1/models/${model}/stats`);
          sum += ((await response.json()) as { predictions: number }).predictions;
        }
        return sum;
      };
      let firstAt: number | undefined;
      let firstCount = 0;
      let stored = 0;
      while (stored < total) {
        stored = await count();
        if (firstAt === undefined && stored > 0) {
          firstAt = Date.now();
          firstCount = stored;
        }
        if (Date.now() - started > 900_000) throw new Error(`only ${stored} of ${total} rows stored after 15 minutes`);
        if (stored < total) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const ended = Date.now();
      const seconds = (ended - (firstAt ?? started)) / 1000;
      const result = {
        rows: total,
        rowsPerSecond: (total - firstCount) / Math.max(seconds, 0.001),
        rowsPerSecondWithStartup: total / ((ended - started) / 1000),
        seconds,
      };
      log(`ingest: ${total.toLocaleString('en-US')} rows in ${seconds.toFixed(2)} s after the first insert → ${Math.round(result.rowsPerSecond).toLocaleString('en-US')} rows/s (goal ≥ 100,000: ${result.rowsPerSecond >= 100_000 ? 'met' : 'missed'}); with start-up ${Math.round(result.rowsPerSecondWithStartup).toLocaleString('en-US')} rows/s`);
      return result;
    } finally {
      await service.stop();
    }
  } finally {
    await stopInfrastructure(dataDir).catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runIngestBench().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
