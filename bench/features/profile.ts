/**
 * Where the feature store spends its CPU on online lookups (`node -r @swc-node/register bench/features/profile.ts`):
 * starts its own Kafka and PostgreSQL on free ports, the feature store as a child process under
 * `--cpu-prof`, applies examples/features/flights.yaml, pushes current values for 100 routes
 * (online, so every status is PRESENT), drives GetOnlineFeatures of the `flight_delay` feature
 * service for 1 entity at a steady rate over REST and then gRPC, stops the service and prints the
 * functions and packages with the most self time. Nothing is asserted; CI never runs it.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startInfrastructure, stopInfrastructure } from '@loopline/infra';
import { freePort } from '@loopline/testing';
import { grpcGetter, jsonPoster } from './clients';
import { openLoop, type Call } from './load';

const root = resolve(__dirname, '..', '..');
const rate = Number(process.env.BENCH_STEADY_RATE ?? 200);
const seconds = Number(process.env.BENCH_STEADY_SECONDS ?? 15);

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

function packageOf(url: string): string {
  if (url === '') return '(native / idle / gc)';
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (match) return match[1]!;
  if (url.startsWith('node:')) return 'node core';
  const local = /\/(libs|services)\/([^/]+)\//.exec(url);
  return local ? `${local[1]}/${local[2]}` : url;
}

function summarize(profile: CpuProfile): void {
  const selfMicros = new Map<number, number>();
  profile.samples.forEach((node, index) => selfMicros.set(node, (selfMicros.get(node) ?? 0) + (profile.timeDeltas[index] ?? 0)));
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const micros = selfMicros.get(node.id) ?? 0;
    if (micros === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    total += micros;
    const name = `${functionName || '(anonymous)'} ${url.replace(`file://${root}/`, '').replace(/.*node_modules\//, '')}:${lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
    const owner = packageOf(url.replace('file://', ''));
    byPackage.set(owner, (byPackage.get(owner) ?? 0) + micros);
  }
  const print = (title: string, entries: Map<string, number>, limit: number) => {
    console.log(`\n${title} (share of ${(total / 1000).toFixed(0)} ms busy CPU)`);
    for (const [name, micros] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, limit)) console.log(`  ${((100 * micros) / total).toFixed(1).padStart(5)} %  ${name}`);
  };
  print('Packages by self time', byPackage, 20);
  print('Functions by self time', byFunction, 40);
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'loopline-profile-features-'));
  chmodSync(dataDir, 0o755);
  const profileDir = join(dataDir, 'profile');
  try {
    const infra = await startInfrastructure({
      dataDir,
      kafka: { port: await freePort(), controllerPort: await freePort() },
      postgres: { port: await freePort() },
      databases: ['feature_store'],
    });
    const httpPort = await freePort();
    const grpcPort = await freePort();
    const child = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, '-r', '@swc-node/register', join(root, 'services', 'feature-store', 'src', 'main.ts')], {
      cwd: root,
      env: {
        ...process.env,
        LOOPLINE_HOST: '127.0.0.1',
        LOOPLINE_FEATURE_STORE_HTTP_PORT: String(httpPort),
        LOOPLINE_FEATURE_STORE_GRPC_PORT: String(grpcPort),
        LOOPLINE_POSTGRES_URL: infra.postgresUrl('feature_store'),
        LOOPLINE_KAFKA_BROKERS: infra.kafkaBrokers.join(','),
        LOOPLINE_DATA_DIR: join(dataDir, 'loopline'),
        LOOPLINE_LOG_LEVEL: 'warn',
        LOOPLINE_FEATURE_STORE_CONSUME_DATASET_EVENTS: 'false',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const baseUrl = `http://127.0.0.1:${httpPort}`;
    for (let waited = 0; ; waited += 500) {
      if ((await fetch(`${baseUrl}/health/ready`).catch(() => undefined))?.ok) break;
      if (waited > 120_000 || child.exitCode !== null) throw new Error('the feature store did not become ready');
      await new Promise((done) => setTimeout(done, 500));
    }
    const post = async (path: string, body: unknown) => {
      const response = await fetch(`${baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    };
    await post('/v1/definitions/apply', { file: readFileSync(join(root, 'examples', 'features', 'flights.yaml'), 'utf8'), fileName: 'flights.yaml' });
    const routes = Array.from({ length: 100 }, (_, index) => [`O${index % 20}`, `D${index}`] as const);
    const now = new Date().toISOString();
    await post('/v1/push', { featureView: 'origin_delays', to: 'online', rows: [...new Set(routes.map((route) => route[0]))].map((origin, index) => ({ origin, event_time: now, delay_rate_24h: index / 40, delay_rate_7d: 0.2, mean_delay_24h: 7.5, mean_delay_7d: 8, flights_24h: 10 + index })) });
    await post('/v1/push', { featureView: 'route_delays', to: 'online', rows: routes.map(([origin, destination], index) => ({ origin, destination, event_time: now, delay_rate_24h: 0.1, delay_rate_7d: index / 200, mean_delay_7d: 4, flights_7d: index })) });
    await post('/v1/push', { featureView: 'route_schedule', to: 'online', rows: routes.map(([origin, destination], index) => ({ origin, destination, event_time: now, hour: index % 24, weekday: 1 + (index % 7), distance: 100 + index })) });

    const rest = jsonPoster(`${baseUrl}/v1/online-features`, 32);
    const grpc = grpcGetter(`127.0.0.1:${grpcPort}`);
    const restCalls: Call[] = routes.map(([origin, destination]) => {
      const body = JSON.stringify({ featureService: 'flight_delay', entities: { origin: [origin], destination: [destination] } });
      return async () => void (await rest(body));
    });
    const grpcCalls: Call[] = routes.map(([origin, destination]) => {
      const body = { featureService: 'flight_delay', entities: { origin: { values: [origin] }, destination: { values: [destination] } } };
      return async () => void (await grpc.get(body));
    });
    for (const [api, calls] of [['REST', restCalls], ['gRPC', grpcCalls]] as const) {
      let next = 0;
      const call: Call = () => calls[next++ % calls.length]!();
      await openLoop(call, rate, 3);
      const result = await openLoop(call, rate, seconds);
      console.log(`${api} 1 × flight_delay at ${rate}/s: p50 ${result.p50Ms.toFixed(3)} ms, p99 ${result.p99Ms.toFixed(3)} ms, p99.9 ${result.p999Ms.toFixed(3)} ms, errors ${result.errors + (result.dropped ?? 0)}`);
    }
    grpc.close();
    child.kill('SIGTERM');
    await new Promise((done) => child.once('exit', done));
    const file = readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile'));
    if (!file) throw new Error('the feature store wrote no CPU profile');
    summarize(JSON.parse(readFileSync(join(profileDir, file), 'utf8')) as CpuProfile);
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
