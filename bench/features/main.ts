/**
 * Features benchmark (`npm run bench:features`). Starts its own Kafka and PostgreSQL (ports 29192,
 * 29193, 25532) in a temporary folder, the feature store as a child process pinned to core 0, and
 * Feast's Python feature server (pinned to core 0 too, on the same PostgreSQL) as the peer; the
 * load generator runs here, pinned to core 1. Prints one table. Nothing is asserted; CI never runs
 * it (CONVENTIONS.md).
 *
 * 1. Materialize the demo views (examples/features/flights.yaml) over flights-3m.parquet: rows/s.
 * 2. Online lookups of 50 features (a route view of 50 doubles, the same values in both systems)
 *    for 1 and 100 entities: closed loop at concurrency 1 and 16, open loop at 1,000 req/s.
 * 3. The floor under the 1 × 50 REST figures: a bare Node HTTP server answering the same bytes on
 *    the same core at the same priority (bare-server.ts), open loop at 1,000 req/s.
 *
 * The ingestion service is stood in for by a small HTTP server here serving the Parquet file as a
 * dataset version of source `flights` (the same two routes the real one serves).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, createReadStream, createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { createClickHouseClient, infrastructureLayout, readPidRecord, startInfrastructure, stopInfrastructure } from '@loopline/infra';
import { freePort } from '@loopline/testing';
import { grpcGetter, jsonPoster } from './clients';
import { feastVenv, prepareFeastRepo, startFeastServer, type FeastServer } from './feast';
import { cpuSecondsOfTree, processTree } from './cpu';
import { closedLoop, openLoop, type Call, type LoadResult } from './load';

const root = resolve(__dirname, '..', '..');
const flightsFile = join(root, 'node_modules', 'vega-datasets', 'data', 'flights-3m.parquet');
const featureCount = 50;
const features = Array.from({ length: featureCount }, (_, index) => `f${String(index).padStart(2, '0')}`);
const closedSeconds = Number(process.env.BENCH_CLOSED_SECONDS ?? 5);
const openSeconds = Number(process.env.BENCH_OPEN_SECONDS ?? 10);
const openRate = 1_000;
/** The steady request rate of the feature-service lookup (1 entity × flight_delay), and how long. */
const steadyRate = Number(process.env.BENCH_STEADY_RATE ?? 200);
const steadySeconds = Number(process.env.BENCH_STEADY_SECONDS ?? 20);
/** Only the feature-service lookup: no 50-feature view, no Feast (a quick run while tuning). */
const onlyService = process.env.BENCH_ONLY_SERVICE === '1';

interface Row {
  readonly system: string;
  readonly api: string;
  readonly shape: string;
  readonly load: string;
  readonly result: LoadResult;
  /** Server CPU milliseconds per answered request. */
  readonly cpuMsPerRequest: number;
}

function step(title: string): void {
  console.log(`\n▶ ${title}`);
}

function benchDefinitions(): string {
  return `entities:
  - name: route
    join_keys: [origin, destination]
feature_views:
  - name: route_bench
    description: 50 doubles per route, for the lookup benchmark only.
    entities: [route]
    source: flights
    timestamp_column: date
    features:
${features.map((name, index) => `      - name: ${name}\n        expression: delay * ${index + 1} + distance\n        type: double`).join('\n')}
`;
}

async function fakeIngestion(file: string): Promise<{ url: string; versionId: string; close: () => void }> {
  const sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
  const server = createServer((request, response) => {
    const match = /^\/v1\/sources\/flights\/versions\/([0-9a-f]{64})(\/data)?$/.exec(request.url ?? '');
    if (!match || match[1] !== sha256) return void response.writeHead(404).end();
    if (match[2]) {
      response.writeHead(200, { 'content-type': 'application/vnd.apache.parquet', 'x-loopline-sha256': sha256 });
      createReadStream(file).pipe(response);
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({ source: 'flights', versionId: sha256, sha256, rowCount: 3_000_000, columns: [], eventTimeColumn: 'date', entityColumns: ['origin', 'destination'], createdAt: new Date().toISOString() }),
    );
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, versionId: sha256, close: () => server.close() };
}

/**
 * Kafka and PostgreSQL onto the load generator's core (every thread of every process of each;
 * backends PostgreSQL forks later inherit it), so the servers' core 0 runs the server measured
 * and nothing else. Both are idle while lookups are answered from the cache.
 */
function pinInfrastructure(dataDir: string): void {
  const layout = infrastructureLayout(dataDir);
  for (const name of ['kafka', 'postgres']) {
    const record = readPidRecord(layout.pidFile(name));
    for (const pid of record ? processTree(record.pid) : []) spawnSync('taskset', ['-a', '-cp', '1', String(pid)]);
  }
}

async function waitReady(url: string, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the feature store exited with ${child.exitCode}; see ${logFile}`);
    try {
      if ((await fetch(`${url}/health/ready`)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the feature store was not ready within 120 s; see ${logFile}`);
    await new Promise((done) => setTimeout(done, 500));
  }
}

async function post(url: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const parsed = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${url}: ${response.status} ${JSON.stringify(parsed).slice(0, 1_000)}`);
  return parsed;
}

function format(value: number, digits = 2): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '–';
}

function printTable(rows: readonly Row[], materialization: readonly string[], steady: readonly Row[]): void {
  console.log('\n## Materialization (flights-3m.parquet, 3,000,000 rows)\n');
  for (const line of materialization) console.log(line);
  console.log(`\n## GetOnlineFeatures of the flights feature service (1 entity × flight_delay: 3 views, 12 features, 2 entities), steady ${steadyRate} req/s for ${steadySeconds} s\n`);
  printRows(steady);
  if (rows.length > 0) {
    console.log('\n## Online lookups (50 features per entity; server on core 0, load generator on core 1)\n');
    printRows(rows);
  }
}

function printRows(rows: readonly Row[]): void {
  const header = ['system', 'API', 'entities × features', 'load', 'req/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'server CPU ms/req', 'errors'];
  const lines = rows.map((row) => [
    row.system,
    row.api,
    row.shape,
    row.load,
    format(row.result.requests / row.result.seconds, 0),
    format(row.result.p50Ms),
    format(row.result.p99Ms),
    format(row.result.p999Ms),
    format(row.result.maxMs),
    // Negative when a worker process exited during the run (its CPU time left the tree): unknown.
    row.cpuMsPerRequest >= 0 ? format(row.cpuMsPerRequest, 3) : '–',
    String(row.result.errors + (row.result.dropped ?? 0)),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column]!.length)));
  const print = (cells: readonly string[]) => console.log(`| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`);
  print(header);
  console.log(`| ${widths.map((width) => '-'.repeat(width)).join(' | ')} |`);
  for (const line of lines) print(line);
}

function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

/** A load run and the server's CPU milliseconds per answered request during it (its process tree). */
async function withServerCpu(server: number, run: () => Promise<LoadResult>): Promise<{ result: LoadResult; cpuMsPerRequest: number }> {
  const before = cpuSecondsOfTree(server);
  const result = await run();
  return { result, cpuMsPerRequest: ((cpuSecondsOfTree(server) - before) * 1000) / Math.max(1, result.requests) };
}

async function measure(rows: Row[], server: number, system: string, api: string, shape: string, calls: readonly Call[]): Promise<void> {
  console.log(`  (load average before ${system} ${api} ${shape}: ${loadAverage()})`);
  let next = 0;
  const call: Call = () => calls[next++ % calls.length]!();
  await closedLoop(call, 4, 2); // warm-up
  for (const concurrency of [1, 16]) {
    const { result, cpuMsPerRequest } = await withServerCpu(server, () => closedLoop(call, concurrency, closedSeconds));
    rows.push({ system, api, shape, load: `c=${concurrency}`, result, cpuMsPerRequest });
    console.log(`  ${system} ${api} ${shape} c=${concurrency}: ${format(result.requests / result.seconds, 0)} req/s, p50 ${format(result.p50Ms)} ms, p99 ${format(result.p99Ms)} ms`);
  }
  const { result, cpuMsPerRequest } = await withServerCpu(server, () => openLoop(call, openRate, openSeconds));
  rows.push({ system, api, shape, load: `${openRate}/s`, result, cpuMsPerRequest });
  console.log(`  ${system} ${api} ${shape} ${openRate}/s: ${format(result.requests / result.seconds, 0)} req/s, p50 ${format(result.p50Ms)} ms, p99 ${format(result.p99Ms)} ms, dropped ${result.dropped}`);
}

/**
 * Pushes current values of the demo views for the benchmark's routes (online only), so a lookup
 * answers PRESENT values as in production rather than OUTSIDE_TTL on the 2001 flights.
 */
async function pushFreshValues(baseUrl: string, routes: readonly (readonly [string, string])[]): Promise<void> {
  const now = new Date().toISOString();
  const sample = (type: string, index: number) => (type === 'int64' ? index % 24 : type === 'double' ? index / 7 : type === 'bool' ? index % 2 === 0 : String(index));
  for (const view of ['origin_delays', 'route_delays', 'route_schedule']) {
    const definition = (await (await fetch(`${baseUrl}/v1/feature-views/${view}`)).json()) as { versions: { entities: string[]; features: { name: string; type: string }[] }[] };
    const latestVersion = definition.versions.at(-1)!;
    const byOrigin = latestVersion.entities.includes('origin');
    const entities = byOrigin ? [...new Set(routes.map((route) => route[0]))].map((origin) => ({ origin })) : routes.map(([origin, destination]) => ({ origin, destination }));
    const rows = entities.map((keys, index) => ({ ...keys, event_time: now, ...Object.fromEntries(latestVersion.features.map((feature) => [feature.name, sample(feature.type, index)])) }));
    await post(`${baseUrl}/v1/push`, { featureView: view, to: 'online', rows });
  }
}

/**
 * The floor under the 1 × 50 REST figures: a bare Node HTTP server (bare-server.ts) answering the
 * online server's own bytes for the same requests, on the same core at the same priority, open
 * loop at the same rate. What remains above it is the feature store's own work.
 */
async function measureFloor(rows: Row[], folder: string, answer: string, requestBodies: readonly string[]): Promise<void> {
  const answerFile = join(folder, 'floor-answer.json');
  writeFileSync(answerFile, answer);
  const port = await freePort();
  const server = spawn('taskset', ['-c', '0', process.execPath, '-r', '@swc-node/register', join(__dirname, 'bare-server.ts'), String(port), answerFile], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise((ready, failed) => {
      server.stdout!.once('data', ready);
      server.once('exit', (code) => failed(new Error(`the bare server exited with ${code}`)));
    });
    const poster = jsonPoster(`http://127.0.0.1:${port}/`, 32);
    let next = 0;
    const call: Call = async () => void (await poster(requestBodies[next++ % requestBodies.length]!));
    await closedLoop(call, 4, 2); // warm-up
    const { result, cpuMsPerRequest } = await withServerCpu(server.pid!, () => openLoop(call, openRate, openSeconds));
    rows.push({ system: 'bare Node HTTP server (floor)', api: 'REST', shape: '1 × 50', load: `${openRate}/s`, result, cpuMsPerRequest });
    console.log(`  bare Node HTTP server (floor) REST 1 × 50 ${openRate}/s: p50 ${format(result.p50Ms)} ms, p99 ${format(result.p99Ms)} ms, p99.9 ${format(result.p999Ms)} ms`);
  } finally {
    server.kill('SIGTERM');
  }
}

async function measureSteady(rows: Row[], server: number, system: string, api: string, calls: readonly Call[]): Promise<void> {
  console.log(`  (load average before ${system} ${api}: ${loadAverage()})`);
  let next = 0;
  const call: Call = () => calls[next++ % calls.length]!();
  await openLoop(call, steadyRate, 3); // warm-up: caches, JIT, connections
  const { result, cpuMsPerRequest } = await withServerCpu(server, () => openLoop(call, steadyRate, steadySeconds));
  rows.push({ system, api, shape: '1 × flight_delay (12)', load: `${steadyRate}/s`, result, cpuMsPerRequest });
  console.log(`  ${system} ${api} 1 × flight_delay ${steadyRate}/s: p50 ${format(result.p50Ms, 3)} ms, p99 ${format(result.p99Ms, 3)} ms, p99.9 ${format(result.p999Ms, 3)} ms, server CPU ${format(cpuMsPerRequest, 3)} ms/req`);
}

async function main(): Promise<void> {
  spawnSync('taskset', ['-cp', '1', String(process.pid)]);
  const dataDir = mkdtempSync(join(tmpdir(), 'loopline-bench-features-'));
  chmodSync(dataDir, 0o755);
  const children: ChildProcess[] = [];
  let feast: FeastServer | undefined;
  const stop = async () => {
    await feast?.stop();
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    await stopInfrastructure(dataDir, (line) => console.log(`  [infra] ${line}`));
    rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void stop().finally(() => process.exit(130)));
  try {
    step(`starting Kafka and PostgreSQL in ${dataDir}`);
    const infra = await startInfrastructure({
      dataDir,
      kafka: { port: 29192, controllerPort: 29193 },
      postgres: { port: 25532 },
      databases: ['feature_store', 'feast'],
      log: (line) => console.log(`  [infra] ${line}`),
    });
    pinInfrastructure(dataDir);
    const ingestion = await fakeIngestion(flightsFile);

    step('starting the feature store (core 0)');
    const httpPort = await freePort();
    const grpcPort = await freePort();
    const onlineHttpPort = await freePort();
    const onlineGrpcPort = await freePort();
    const logFile = join(dataDir, 'feature-store.log');
    const child = spawn('taskset', ['-c', '0', process.execPath, '-r', '@swc-node/register', join(root, 'services', 'feature-store', 'src', 'main.ts')], {
      cwd: root,
      env: {
        ...process.env,
        LOOPLINE_HOST: '127.0.0.1',
        LOOPLINE_FEATURE_STORE_HTTP_PORT: String(httpPort),
        LOOPLINE_FEATURE_STORE_GRPC_PORT: String(grpcPort),
        LOOPLINE_FEATURE_STORE_ONLINE_HTTP_PORT: String(onlineHttpPort),
        LOOPLINE_FEATURE_STORE_ONLINE_GRPC_PORT: String(onlineGrpcPort),
        LOOPLINE_POSTGRES_URL: infra.postgresUrl('feature_store'),
        LOOPLINE_KAFKA_BROKERS: infra.kafkaBrokers.join(','),
        LOOPLINE_DATA_DIR: join(dataDir, 'loopline'),
        LOOPLINE_INGESTION_URL: ingestion.url,
        LOOPLINE_LOG_LEVEL: 'warn',
        LOOPLINE_FEATURE_STORE_CONSUME_DATASET_EVENTS: 'false',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const log = createWriteStream(logFile);
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    const baseUrl = `http://127.0.0.1:${httpPort}`;
    await waitReady(baseUrl, child, logFile);

    step('applying examples/features/flights.yaml and the 50-feature route view');
    await post(`${baseUrl}/v1/definitions/apply`, { file: readFileSync(join(root, 'examples', 'features', 'flights.yaml'), 'utf8'), fileName: 'flights.yaml' });
    await post(`${baseUrl}/v1/definitions/apply`, { file: benchDefinitions(), fileName: 'bench.yaml' });

    step('materializing over flights-3m.parquet');
    const materialization: string[] = [];
    let demoSeconds = 0;
    for (const view of ['origin_delays', 'route_delays', 'route_schedule', ...(onlyService ? [] : ['route_bench'])]) {
      const started = performance.now();
      const record = await post(`${baseUrl}/v1/materializations`, { view, datasetVersionId: ingestion.versionId });
      const seconds = (performance.now() - started) / 1000;
      if (view !== 'route_bench') demoSeconds += seconds;
      const line = `- ${view}: ${format(seconds, 1)} s, ${format(3_000_000 / seconds / 1000, 0)}k source rows/s → ${record.offlineRowCount} offline rows, ${record.onlineRowCount} online rows`;
      materialization.push(line);
      console.log(`  ${line}`);
    }
    materialization.push(`- the three demo views together: ${format(demoSeconds, 1)} s, ${format((3 * 3_000_000) / demoSeconds / 1000, 0)}k view-rows/s (first download of the file included in the first view)`);

    step('choosing 100 routes');
    const pg = new Client({ connectionString: infra.postgresUrl('feature_store') });
    await pg.connect();
    const keys = (await pg.query<{ entity_key: string }>(`SELECT entity_key FROM feature_store.online_features WHERE view_name = 'route_schedule' ORDER BY entity_key LIMIT 100`)).rows.map(
      (row) => JSON.parse(row.entity_key) as [string, string],
    );
    await pg.end();
    const refs = features.map((name) => `route_bench:${name}`);
    // The service's own API (Nest, main thread) and the online server (its own ports, a worker thread).
    const serviceRestPost = jsonPoster(`${baseUrl}/v1/online-features`, 32);
    const serviceGrpcClient = grpcGetter(`127.0.0.1:${grpcPort}`);
    const rest = jsonPoster(`http://127.0.0.1:${onlineHttpPort}/v1/online-features`, 32);
    const grpc = grpcGetter(`127.0.0.1:${onlineGrpcPort}`);

    step(`feature service flight_delay, 1 entity, steady ${steadyRate} req/s (fresh values pushed first, so statuses are PRESENT)`);
    await pushFreshValues(baseUrl, keys);
    const steady: Row[] = [];
    const serviceRest = (route: readonly [string, string]) => JSON.stringify({ featureService: 'flight_delay', entities: { origin: [route[0]], destination: [route[1]] } });
    const serviceGrpc = (route: readonly [string, string]) => ({ featureService: 'flight_delay', entities: { origin: { values: [route[0]] }, destination: { values: [route[1]] } } });
    const served = JSON.parse(await rest(serviceRest(keys[0]!))) as { metadata: { featureNames: string[] }; results: { statuses: string[] }[] };
    console.log(`  ${served.metadata.featureNames.length} features: ${served.metadata.featureNames.join(', ')}; statuses of ${keys[0]!.join('→')}: ${[...new Set(served.results.map((result) => result.statuses[0]))].join(', ')}`);
    await measureSteady(steady, child.pid!, 'Loopline online server', 'gRPC', keys.map((key) => { const body = serviceGrpc(key); return async () => void (await grpc.get(body)); }));
    await measureSteady(steady, child.pid!, 'Loopline online server', 'REST', keys.map((key) => { const body = serviceRest(key); return async () => void (await rest(body)); }));
    await measureSteady(steady, child.pid!, 'Loopline service API', 'gRPC', keys.map((key) => { const body = serviceGrpc(key); return async () => void (await serviceGrpcClient.get(body)); }));
    await measureSteady(steady, child.pid!, 'Loopline service API', 'REST', keys.map((key) => { const body = serviceRest(key); return async () => void (await serviceRestPost(body)); }));
    serviceGrpcClient.close();

    const rows: Row[] = [];
    if (onlyService) {
      grpc.close();
      printTable(rows, materialization, steady);
      return;
    }
    step('Loopline lookups');
    const restBody = (routes: readonly [string, string][]) => JSON.stringify({ features: refs, entities: { origin: routes.map((route) => route[0]), destination: routes.map((route) => route[1]) } });
    const grpcBody = (routes: readonly [string, string][]) => ({
      features: { references: refs },
      entities: { origin: { values: routes.map((route) => route[0]) }, destination: { values: routes.map((route) => route[1]) } },
    });
    const sample = JSON.parse(await rest(restBody([keys[0]!]))) as { results: { values: number[]; statuses: string[] }[] };
    for (const [shape, bodies] of [
      ['1 × 50', keys.map((key) => [key] as [string, string][])],
      ['100 × 50', [keys]],
    ] as const) {
      await measure(rows, child.pid!, 'Loopline online server', 'gRPC', shape, bodies.map((routes) => { const body = grpcBody(routes); return async () => void (await grpc.get(body)); }));
      await measure(rows, child.pid!, 'Loopline online server', 'REST', shape, bodies.map((routes) => { const body = restBody(routes); return async () => void (await rest(body)); }));
    }
    grpc.close();
    step('the floor: a bare Node HTTP server answering the same bytes (core 0, the online server\'s priority)');
    await measureFloor(rows, dataDir, await rest(restBody([keys[0]!])), keys.map((key) => restBody([key])));

    step('Feast (Python feature server, Postgres online store)');
    let feastNote = '';
    try {
      const venv = feastVenv();
      const feastDir = join(dataDir, 'feast');
      mkdirSync(feastDir, { recursive: true });
      const parquet = join(feastDir, 'route_bench.parquet');
      const clickhouse = createClickHouseClient({ path: join(dataDir, 'bench-chdb') });
      // The same latest row per route that the feature store keeps online (same tie-break).
      await clickhouse.command({
        query: `INSERT INTO FUNCTION file('${parquet}', 'Parquet') SELECT concat(origin, '-', destination) AS route_id, event_timestamp, ${features.map((name) => name).join(', ')} FROM (
          SELECT assumeNotNull(origin) AS origin, assumeNotNull(destination) AS destination, toDateTime64(assumeNotNull(date), 6, 'UTC') AS event_timestamp,
                 ${features.map((name, index) => `toFloat64(delay * ${index + 1} + distance) AS ${name}`).join(', ')}
            FROM file('${flightsFile}', 'Parquet') WHERE origin IS NOT NULL AND destination IS NOT NULL AND date IS NOT NULL)
          ORDER BY origin, destination, event_timestamp DESC, ${features.join(', ')} LIMIT 1 BY origin, destination`,
        clickhouse_settings: { engine_file_truncate_on_insert: 1 },
      });
      await clickhouse.close();
      const url = new URL(infra.postgresUrl('feast'));
      const materializeSeconds = prepareFeastRepo(venv, {
        folder: feastDir,
        parquet,
        features,
        postgres: { host: url.hostname, port: Number(url.port), database: 'feast', user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) },
      });
      feastNote = `Feast \`feast materialize\` of the latest 50 values per route (3,399 rows, precomputed Parquet) into its Postgres online store took ${format(materializeSeconds, 1)} s. Feast 0.67 allows a single join key per entity, so Feast's route key is "ORIGIN-DESTINATION" while Loopline's request carries origin and destination.`;
      feast = await startFeastServer(venv, feastDir, await freePort(), 0);
      const feastPost = jsonPoster(`${feast.url}/get-online-features`, 32);
      const feastBody = (routes: readonly [string, string][]) => JSON.stringify({ features: refs, entities: { route_id: routes.map((route) => `${route[0]}-${route[1]}`) } });
      const feastSample = JSON.parse(await feastPost(feastBody([keys[0]!]))) as { metadata: { feature_names: string[] }; results: { values: unknown[]; statuses: string[] }[] };
      // Feast answers the join key first and the features in an order of its own: match by name.
      const feastByName = new Map(feastSample.metadata.feature_names.map((name, index) => [name, feastSample.results[index]!]));
      const agree = sample.results.every((result, index) => Math.abs(Number(feastByName.get(features[index]!)?.values[0]) - result.values[0]!) < 1e-9);
      feastNote += ` Values agree with Loopline's for ${keys[0]!.join('→')}: ${agree ? 'yes' : 'NO'}.`;
      for (const [shape, bodies] of [
        ['1 × 50', keys.map((key) => [key] as [string, string][])],
        ['100 × 50', [keys]],
      ] as const) {
        await measure(rows, feast.process.pid!, 'Feast 0.67 (Python)', 'REST', shape, bodies.map((routes) => { const body = feastBody(routes); return async () => void (await feastPost(body)); }));
      }
    } catch (error) {
      feastNote = `Feast could not be run: ${error instanceof Error ? error.message : String(error)}`;
      console.log(`  ${feastNote}`);
    }
    materialization.push('', feastNote, '', `Load average at the end (2 cores, shared with other work): ${loadAverage()}.`);
    printTable(rows, materialization, steady);
  } finally {
    await stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
