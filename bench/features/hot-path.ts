/**
 * The feature store's own share of an online lookup (`node -r @swc-node/register bench/features/hot-path.ts`): the
 * service runs in this process (on its own PostgreSQL, no Kafka), and `OnlineFeatures.get` — what
 * both the REST and the gRPC handler call — is timed directly for 1 entity × the `flight_delay`
 * feature service (3 views, 12 features, 2 entities), with the in-process cache warm (the steady
 * state) and cold (every view version invalidated before each call, so every row is read from
 * PostgreSQL through the prepared statement: what the first lookup after a materialization costs).
 * The difference to the end-to-end figures of `npm run bench:features` is the transport (HTTP or
 * gRPC, Nest, tracing). Nothing is asserted; CI never runs it.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startInfrastructure, stopInfrastructure } from '@loopline/infra';
import { startService } from '@loopline/service-host';
import { freePort } from '@loopline/testing';
import { OnlineFeatures } from '../../services/feature-store/src/application/online-features';
import { loadConfig } from '../../services/feature-store/src/config';
import { featureStoreService } from '../../services/feature-store/src/feature-store-service';

const root = resolve(__dirname, '..', '..');
const warmCalls = Number(process.env.BENCH_HOT_CALLS ?? 100_000);
const coldCalls = Number(process.env.BENCH_COLD_CALLS ?? 5_000);

function percentiles(micros: number[]): string {
  micros.sort((a, b) => a - b);
  const at = (p: number) => micros[Math.min(micros.length - 1, Math.floor(p * micros.length))]!;
  return `p50 ${at(0.5).toFixed(1)} µs, p99 ${at(0.99).toFixed(1)} µs, p99.9 ${at(0.999).toFixed(1)} µs, max ${micros.at(-1)!.toFixed(0)} µs (${micros.length} calls)`;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'loopline-hot-path-'));
  chmodSync(dataDir, 0o755);
  try {
    const infra = await startInfrastructure({ dataDir, kafka: { port: await freePort(), controllerPort: await freePort() }, postgres: { port: await freePort() }, databases: ['feature_store'] });
    const service = await startService(
      featureStoreService(() =>
        loadConfig({
          LOOPLINE_HOST: '127.0.0.1',
          LOOPLINE_FEATURE_STORE_HTTP_PORT: '0',
          LOOPLINE_FEATURE_STORE_GRPC_PORT: '0',
          LOOPLINE_POSTGRES_URL: infra.postgresUrl('feature_store'),
          LOOPLINE_DATA_DIR: join(dataDir, 'loopline'),
          LOOPLINE_LOG_LEVEL: 'warn',
          LOOPLINE_FEATURE_STORE_CONSUME_DATASET_EVENTS: 'false',
          LOOPLINE_FEATURE_STORE_TASKS: 'false',
        }),
      ),
    );
    try {
      const post = async (path: string, body: unknown) => {
        const response = await fetch(`${service.httpUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
      };
      await post('/v1/definitions/apply', { file: readFileSync(join(root, 'examples', 'features', 'flights.yaml'), 'utf8'), fileName: 'flights.yaml' });
      const routes = Array.from({ length: 100 }, (_, index) => [`O${index % 20}`, `D${index}`] as const);
      const now = new Date().toISOString();
      await post('/v1/push', { featureView: 'origin_delays', to: 'online', rows: [...new Set(routes.map((route) => route[0]))].map((origin, index) => ({ origin, event_time: now, delay_rate_24h: index / 40, delay_rate_7d: 0.2, mean_delay_24h: 7.5, mean_delay_7d: 8, flights_24h: 10 + index })) });
      await post('/v1/push', { featureView: 'route_delays', to: 'online', rows: routes.map(([origin, destination], index) => ({ origin, destination, event_time: now, delay_rate_24h: 0.1, delay_rate_7d: index / 200, mean_delay_7d: 4, flights_7d: index })) });
      await post('/v1/push', { featureView: 'route_schedule', to: 'online', rows: routes.map(([origin, destination], index) => ({ origin, destination, event_time: now, hour: index % 24, weekday: 1 + (index % 7), distance: 100 + index })) });

      const online = service.app.get(OnlineFeatures);
      const requests = routes.map(([origin, destination]) => ({ featureService: 'flight_delay', entities: { origin: [origin], destination: [destination] } }));
      const first = await online.get(requests[0]!);
      console.log(`${first.featureNames.length} features; statuses: ${[...new Set(first.results.map((result) => result.statuses[0]))].join(', ')}`);
      const views = ['origin_delays', 'route_delays', 'route_schedule'];

      for (let round = 0; round < 2; round += 1) {
        const warm: number[] = [];
        for (let call = 0; call < warmCalls; call += 1) {
          const started = process.hrtime.bigint();
          await online.get(requests[call % requests.length]!);
          warm.push(Number(process.hrtime.bigint() - started) / 1000);
        }
        console.log(`${round === 0 ? 'warm-up ' : ''}cache warm: ${percentiles(warm)}`);
      }
      const cold: number[] = [];
      for (let call = 0; call < coldCalls; call += 1) {
        for (const view of views) online.invalidate(view, 1);
        const started = process.hrtime.bigint();
        await online.get(requests[call % requests.length]!);
        cold.push(Number(process.hrtime.bigint() - started) / 1000);
      }
      console.log(`cache cold (3 rows read from PostgreSQL per call): ${percentiles(cold)}`);
      console.log(`load average: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} on ${cpus().length} cores`);
    } finally {
      await service.stop();
    }
  } finally {
    await stopInfrastructure(dataDir);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
