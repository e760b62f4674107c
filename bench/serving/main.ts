/**
 * Serving benchmark (`npm run bench:serving`): Loopline serving side by side with
 * `mlflow models serve` and Seldon MLServer, in one run, one printed table (also written to
 * bench/serving/RESULTS.md). Figures only: nothing is asserted, the exit code is 0 whenever the
 * table was printed, and CI never runs it (CONVENTIONS.md).
 *
 * 1. A Python environment of its own (<tmp>/loopline-bench-venv, pinned python/requirements.txt)
 *    and python/prepare_models.py: one fitted 100-tree GradientBoostingClassifier on 10 float
 *    features, as ONNX (Loopline), an MLflow sklearn model and an MLServer sklearn model.
 * 2. Loopline: real Kafka + PostgreSQL, the registry and serving services as child processes; the
 *    model registered and made champion through the registry's REST API. A second serving
 *    instance runs without its prediction log, for comparison (the peers log nothing).
 * 3. All servers are started first and stay up; then each load in turn (single-row requests in a
 *    closed loop at concurrency 1 and 16, an open loop at 1,000 req/s, 64-row requests at
 *    concurrency 16) is run against every endpoint back to back, in alternating order, so that
 *    load from outside the run (other jobs on the same 2 cores) falls on every system alike.
 *    Only the endpoint being measured gets requests; the others sit idle. Every endpoint's
 *    answers are checked against scikit-learn's first. The load generator is one Node process
 *    (load-worker.ts), the same client for every system. Servers run on core 0 and the load
 *    generator on core 1 (`taskset`), unless BENCH_PIN=0.
 *
 * Knobs (README.md): BENCH_SECONDS (5), BENCH_WARMUP_SECONDS (4), BENCH_OPEN_RATE (1000), BENCH_PIN (1), BENCH_SYSTEMS
 * (loopline,mlserver,mlflow), BENCH_SKIP_VARIANT, BENCH_SERVING_NODE_ARGS (extra node flags of
 * Loopline serving, e.g. `--cpu-prof --cpu-prof-dir=<folder>`), LOOPLINE_BENCH_VENV. A run with
 * BENCH_SYSTEMS or BENCH_SERVING_NODE_ARGS set leaves RESULTS.md alone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Api, System, Target } from './clients';
import type { AgreementCheck, AgreementResult, Scenario, ScenarioResult } from './load-worker';
import { startLoopline, type LooplineStack, type ServingProcess } from './loopline';
import { startMlflow, startMlserver, type PeerServer } from './peers';
import { pinSelf } from './processes';
import { ensurePythonEnv, prepareModels, type PreparedModels, type PythonEnv } from './python-env';
import { renderGoals, renderMarkdown, renderTable, type LoadKind, type Report, type Row } from './report';

const root = resolve(__dirname, '..', '..');
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const warmupSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? 4);
const openRate = Number(process.env.BENCH_OPEN_RATE ?? 1_000);
const pin = process.env.BENCH_PIN !== '0';
const systems = new Set((process.env.BENCH_SYSTEMS ?? 'loopline,mlserver,mlflow').split(',').map((name) => name.trim()));
const serverCores = pin ? '0' : undefined;
const clientCores = pin ? '1' : undefined;
const modelName = 'gbt';
const batchRows = 64;
const goals = { perCoreRatio: 3, openRate, p99Ms: 1, batchRowsPerSecond: 50_000 };

const startedAt = Date.now();
function elapsed(): string {
  return `${((Date.now() - startedAt) / 1000).toFixed(0).padStart(3)} s`;
}
function step(title: string): void {
  console.log(`\n[${elapsed()}] ▶ ${title}`);
}
function info(line: string): void {
  console.log(`  ${line}`);
}
function load(): string {
  return loadavg()
    .map((value) => value.toFixed(2))
    .join(' / ');
}

/** The load generator process and a promise-based call into it. */
class LoadWorker {
  private readonly child: ChildProcess;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  constructor() {
    const args = ['-r', '@swc-node/register', join(__dirname, 'load-worker.ts')];
    const [command, fullArgs] = clientCores ? ['taskset', ['-c', clientCores, process.execPath, ...args]] : [process.execPath, args];
    this.child = spawn(command, fullArgs, { cwd: root, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (message: { id: number; value?: unknown; error?: string }) => {
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error !== undefined) waiter?.reject(new Error(message.error));
      else waiter?.resolve(message.value);
    });
    this.child.once('exit', (code) => {
      for (const waiter of this.pending.values()) waiter.reject(new Error(`the load generator exited (${code})`));
      this.pending.clear();
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  private call<T>(message: object): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolvePromise, reject) => {
      this.pending.set(id, { resolve: resolvePromise as (value: unknown) => void, reject });
      this.child.send({ id, ...message });
    });
  }

  run(scenario: Scenario): Promise<ScenarioResult> {
    return this.call({ kind: 'run', scenario });
  }

  check(check: AgreementCheck): Promise<AgreementResult> {
    return this.call({ kind: 'check', check });
  }

  stop(): void {
    if (this.child.connected) this.child.disconnect();
  }
}

/** One thing to measure: a protocol of one server. */
interface Endpoint {
  readonly label: string;
  readonly role: Row['role'];
  readonly system: System;
  readonly api: Api;
  readonly address: string;
  /** Roots of the server's process tree. */
  readonly serverPids: readonly number[];
  /** Processes whose CPU is reported apart (Loopline: the Kafka broker taking the prediction log). */
  readonly sidePids?: Readonly<Record<string, number>>;
  /** The loads it gets (default: all). */
  readonly loads?: readonly LoadKind[];
}

const loads: readonly LoadKind[] = ['c=1', 'c=16', 'open', 'batch'];

function apiName(api: Api): 'REST' | 'gRPC' {
  return api === 'rest' ? 'REST' : 'gRPC';
}

function loadName(kind: LoadKind): string {
  return kind === 'open' ? `open ${openRate}/s` : kind === 'batch' ? `${batchRows} rows c=16` : kind;
}

function scenarioFor(endpoint: Endpoint, kind: LoadKind): Omit<Scenario, 'rowsFile'> {
  const target: Target = { system: endpoint.system, api: endpoint.api, endpoint: endpoint.address, model: modelName, inputName: 'features', rowsPerRequest: kind === 'batch' ? batchRows : 1 };
  // A short warm-up of its own before every run (new connections; the long one is done up front).
  const common = { target, seconds, serverPids: endpoint.serverPids, sidePids: endpoint.sidePids, warmupSeconds: 0.5 };
  switch (kind) {
    case 'c=1':
      return { ...common, mode: 'closed', concurrency: 1 };
    case 'c=16':
    case 'batch':
      return { ...common, mode: 'closed', concurrency: 16 };
    case 'open':
      return { ...common, mode: 'open', concurrency: 1, ratePerSecond: openRate };
    default: {
      const never: never = kind;
      return never;
    }
  }
}

function describeRun(outcome: ScenarioResult, rowsPerRequest: number): string {
  const { result } = outcome;
  const rps = result.requests / result.seconds;
  const parts = [
    `${rps.toFixed(0)} req/s`,
    rowsPerRequest > 1 ? `${(rps * rowsPerRequest).toFixed(0)} rows/s` : '',
    `p50 ${result.p50Ms.toFixed(2)} ms`,
    `p99 ${result.p99Ms.toFixed(2)} ms`,
    `server ${(outcome.serverCpuMs / Math.max(1, result.requests)).toFixed(3)} CPU-ms/req (${(outcome.serverCpuMs / 1000 / result.seconds).toFixed(2)} cores)`,
    `client ${(outcome.clientCpuMs / Math.max(1, result.requests)).toFixed(3)} CPU-ms/req`,
    ...Object.entries(outcome.sideCpuMs).map(([name, cpu]) => `${name} ${(cpu / Math.max(1, result.requests)).toFixed(3)} CPU-ms/req`),
    result.errors > 0 ? `${result.errors} errors (first: ${result.firstError})` : '',
    result.open ? `late sends ${result.open.late}/${result.open.scheduled} (max ${result.open.maxLateMs.toFixed(1)} ms), dropped ${result.open.dropped}, p99 from schedule ${result.open.p99FromScheduleMs.toFixed(2)} ms` : '',
  ];
  return parts.filter(Boolean).join(', ');
}

function missingRows(label: string, role: Row['role'], apis: readonly ('REST' | 'gRPC')[], reason: string): Row[] {
  return apis.flatMap((api) => loads.map((kind) => ({ system: label, role, api, load: kind, rowsPerRequest: kind === 'batch' ? batchRows : 1, outcome: { missing: reason } })));
}

/** Copies the servers' logs out of the run's folder (which is removed) into <tmpdir>/loopline-bench-serving-logs. */
function keepLogs(folder: string): void {
  const target = join(tmpdir(), 'loopline-bench-serving-logs');
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory() && !['postgres', 'kafka', 'models'].includes(entry.name)) visit(path);
      else if (entry.isFile() && entry.name.endsWith('.log')) copyFileSync(path, join(target, entry.name));
    }
  };
  try {
    visit(folder);
    info(`servers' logs kept in ${target}`);
  } catch {
    // logs are a convenience
  }
}

/** The start of an error message on one line, for a table cell. */
function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s*\n\s*/g, ' ').trim().slice(0, 160);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

interface Started {
  readonly endpoints: Endpoint[];
  readonly rows: Row[];
  readonly notes: string[];
  loopline?: LooplineStack;
  readonly peers: PeerServer[];
}

async function startLooplineSide(prepared: Promise<PreparedModels>, folder: string, into: Started): Promise<void> {
  try {
    const stack = await startLoopline({
      dataDir: join(folder, 'loopline'),
      onnxFile: prepared.then((models) => models.onnx),
      modelName,
      servingCores: serverCores,
      servingNodeArgs: process.env.BENCH_SERVING_NODE_ARGS?.split(' ').filter(Boolean),
      log: (line) => info(`[loopline] ${line}`),
    });
    into.loopline = stack;
    const add = (label: string, role: Row['role'], serving: ServingProcess, only?: readonly LoadKind[]) => {
      for (const [api, address] of [['rest', serving.url], ['grpc', serving.grpcAddress]] as const) {
        into.endpoints.push({ label, role, system: 'loopline', api, address, serverPids: [serving.process.pid], sidePids: { kafka: stack.kafkaPid }, loads: only });
      }
    };
    add('Loopline', 'loopline', stack.serving);
    if (process.env.BENCH_SKIP_VARIANT !== '1') {
      // The peers log nothing: the same serving without its prediction log shows what the log costs.
      try {
        add('Loopline, no prediction log', 'variant', await stack.startServing({ LOOPLINE_SERVING_LOG_PREDICTIONS: 'false' }), ['c=16', 'open', 'batch']);
      } catch (error) {
        into.notes.push(`The "no prediction log" serving instance did not start: ${firstLine(error)}`);
      }
    }
  } catch (error) {
    info(`Loopline did not start: ${message(error)}`);
    into.rows.push(...missingRows('Loopline', 'loopline', ['REST', 'gRPC'], `did not start: ${firstLine(error)}`));
  }
}

async function startPeer(
  name: 'MLServer' | 'MLflow',
  python: PythonEnv | undefined,
  why: string | undefined,
  models: PreparedModels,
  folder: string,
  into: Started,
): Promise<void> {
  const apis: ('REST' | 'gRPC')[] = name === 'MLServer' ? ['REST', 'gRPC'] : ['REST'];
  if (!python || (name === 'MLflow' && models.summary.mlflowError)) {
    into.rows.push(...missingRows(name, 'peer', apis, `not installed: ${firstLine(why ?? models.summary.mlflowError)}`));
    return;
  }
  const workDir = join(folder, `${name.toLowerCase()}-run`);
  mkdirSync(workDir, { recursive: true });
  const since = Date.now();
  try {
    const peer = name === 'MLServer' ? await startMlserver(python, models.mlserverRepository, workDir, modelName, serverCores) : await startMlflow(python, models.mlflowModel, workDir, serverCores);
    into.peers.push(peer);
    info(`[${name.toLowerCase()}] ${name} ${peer.version} ready after ${((Date.now() - since) / 1000).toFixed(0)} s (pid ${peer.process.pid}; ${peer.workers})`);
    const label = `${name} ${peer.version}`;
    into.endpoints.push({ label, role: 'peer', system: name === 'MLServer' ? 'mlserver' : 'mlflow', api: 'rest', address: peer.restUrl, serverPids: [peer.process.pid] });
    if (peer.grpcAddress) into.endpoints.push({ label, role: 'peer', system: 'mlserver', api: 'grpc', address: peer.grpcAddress, serverPids: [peer.process.pid] });
    into.notes.push(
      name === 'MLServer'
        ? `${label}: ${peer.workers}; mlserver_sklearn.SKLearnModel (joblib), default settings but for ports, host 127.0.0.1 and MLSERVER_DEBUG=false (no access log line per request).`
        : `${label}: ${peer.workers}; sklearn flavor (cloudpickle), payload \`{"inputs": [[...10 floats]]}\` to /invocations, UVICORN_ACCESS_LOG=false (no access log line per request).`,
    );
  } catch (error) {
    info(`[${name.toLowerCase()}] ${name} did not start: ${message(error)}`);
    into.rows.push(...missingRows(name, 'peer', apis, `did not start: ${firstLine(error)}`));
  }
}

async function main(): Promise<void> {
  if (clientCores) pinSelf(clientCores);
  const loadAtStart = load();
  const cpuModel = cpus()[0]?.model ?? 'unknown CPU';
  step(`bench:serving — ${cpus().length} cores (${cpuModel}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; load average at start ${loadAtStart}`);
  info(`${seconds} s per measured run (after a warm-up), open loop at ${openRate} req/s; ${pin ? 'servers pinned to core 0, load generator to core 1' : 'no pinning'}`);
  info("client and servers share this machine's 2 cores (and with whatever else runs on it): figures are for this machine, in this run");

  const folder = mkdtempSync(join(tmpdir(), 'loopline-bench-serving-'));
  // mkdtemp makes the folder private (0700); PostgreSQL runs as the `postgres` user and must reach its data folder inside.
  chmodSync(folder, 0o755);
  const started: Started = { endpoints: [], rows: [], notes: [], peers: [] };
  const { rows, notes } = started;
  let worker: LoadWorker | undefined;
  const cleanUp = async () => {
    worker?.stop();
    for (const peer of started.peers) await peer.process.stop();
    await started.loopline?.stop();
    keepLogs(folder);
    rmSync(folder, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanUp().finally(() => process.exit(130)));

  try {
    step('starting everything: Python environment and model, Loopline (Kafka, PostgreSQL, registry, 2 × serving), MLServer, MLflow');
    let pythonError: string | undefined;
    const pythonEnv: Promise<PythonEnv | undefined> = ensurePythonEnv((line) => info(`[python] ${line}`)).catch((error: unknown) => {
      pythonError = message(error);
      info(`[python] the Python environment could not be installed: ${pythonError}`);
      return undefined;
    });
    // Without the environment, the system python3 may still make the ONNX model (Loopline's rows).
    const prepared = pythonEnv.then((python) => prepareModels(python ?? { venv: '', python: 'python3', bin: '', installed: false }, join(folder, 'models')));
    const peersStarted = Promise.all([pythonEnv, prepared]).then(async ([python, models]) => {
      info(`[python] model ready: ${JSON.stringify(models.summary)}`);
      if (systems.has('mlserver')) await startPeer('MLServer', python, pythonError, models, folder, started);
      if (systems.has('mlflow')) await startPeer('MLflow', python, pythonError, models, folder, started);
    });
    await Promise.all([systems.has('loopline') ? startLooplineSide(prepared, folder, started) : Promise.resolve(), peersStarted]);
    const models = await prepared;
    worker = new LoadWorker();
    const order = (endpoint: Endpoint) => ['Loopline', 'Loopline, no prediction log', 'MLServer', 'MLflow'].findIndex((prefix) => endpoint.label.startsWith(prefix)) * 2 + (endpoint.api === 'rest' ? 0 : 1);
    const endpoints = [...started.endpoints].sort((a, b) => order(a) - order(b));

    step('checking every endpoint\'s labels against scikit-learn\'s (64 rows)');
    const usable: Endpoint[] = [];
    for (const endpoint of endpoints) {
      const name = `${endpoint.label} ${apiName(endpoint.api)}`;
      try {
        const agreement = await worker.check({ target: scenarioFor(endpoint, 'batch').target, rowsFile: models.expectedFile, rows: batchRows });
        info(`${name}: ${agreement.agree}/${agreement.of} labels agree`);
        if (agreement.agree !== agreement.of) notes.push(`${name}: only ${agreement.agree}/${agreement.of} labels agree with scikit-learn's.`);
        usable.push(endpoint);
      } catch (error) {
        info(`${name}: failed: ${message(error)}`);
        rows.push(...missingRows(endpoint.label, endpoint.role, [apiName(endpoint.api)], `failed: ${firstLine(error)}`));
      }
    }

    // Every endpoint is warmed up before anything is measured: Loopline's prediction log path (and
    // the Kafka broker's JVM behind it) needs several seconds of traffic to reach its steady state;
    // the peers get the same.
    step(`warm-up: ${warmupSeconds} s at 16 callers per endpoint`);
    for (const endpoint of usable) {
      const warmup = { ...scenarioFor(endpoint, 'c=16'), seconds: warmupSeconds, warmupSeconds: 0, rowsFile: models.expectedFile };
      try {
        const outcome = await worker.run(warmup);
        info(`${endpoint.label} ${apiName(endpoint.api)}: ${describeRun(outcome, 1)}`);
      } catch (error) {
        info(`${endpoint.label} ${apiName(endpoint.api)}: warm-up failed: ${message(error)}`);
      }
    }

    for (const [index, kind] of loads.entries()) {
      // Alternate the order (A B C, then C B A, …) so a drift of the outside load evens out.
      const ordered = usable.filter((endpoint) => !endpoint.loads || endpoint.loads.includes(kind));
      if (index % 2 === 1) ordered.reverse();
      step(`${loadName(kind)}: ${ordered.map((endpoint) => `${endpoint.label} ${apiName(endpoint.api)}`).join(' → ')}`);
      for (const endpoint of ordered) {
        const scenario = { ...scenarioFor(endpoint, kind), rowsFile: models.expectedFile };
        const row = { system: endpoint.label, role: endpoint.role, api: apiName(endpoint.api), load: kind, rowsPerRequest: scenario.target.rowsPerRequest };
        try {
          const outcome = await worker.run(scenario);
          rows.push({ ...row, outcome });
          info(`${endpoint.label} ${row.api} ${loadName(kind)}: ${describeRun(outcome, row.rowsPerRequest)}`);
        } catch (error) {
          rows.push({ ...row, outcome: { missing: `failed: ${firstLine(error)}` } });
          info(`${endpoint.label} ${row.api} ${loadName(kind)}: failed: ${message(error)}`);
        }
      }
    }
    if (systems.has('mlflow')) {
      const label = rows.find((row) => row.system.startsWith('MLflow'))?.system ?? 'MLflow';
      for (const kind of loads) rows.push({ system: label, role: 'peer', api: 'gRPC', load: kind, rowsPerRequest: kind === 'batch' ? batchRows : 1, outcome: { missing: 'n/a: mlflow models serve has no gRPC API' } });
    }

    const loadAtEnd = load();
    const roleOrder = (row: Row) => (row.role === 'loopline' ? 0 : row.role === 'variant' ? 1 : row.system.startsWith('MLServer') ? 2 : 3);
    rows.sort((a, b) => roleOrder(a) - roleOrder(b) || (a.api === b.api ? 0 : a.api === 'REST' ? -1 : 1) || loads.indexOf(a.load) - loads.indexOf(b.load));
    const kafkaCpu = rows
      .filter((row) => row.role !== 'peer' && 'result' in row.outcome && row.outcome.sideCpuMs.kafka !== undefined && row.rowsPerRequest === 1)
      .map((row) => {
        const outcome = row.outcome as ScenarioResult;
        return `${row.role === 'variant' ? 'no log ' : ''}${row.api} ${row.load} ${(outcome.sideCpuMs.kafka! / Math.max(1, outcome.result.requests)).toFixed(3)}`;
      });
    const summary = models.summary;
    notes.unshift(
      `Machine: ${cpus().length} cores (${cpuModel}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; load average (1/5/15 min) ${loadAtStart} at start, ${loadAtEnd} at end. Other engineers' test suites (each with its own Kafka and PostgreSQL) share these 2 cores: with a load average above 2 a server gets only part of its core ("server cores busy" below 1 at c=16), so req/s and latency tails are disturbed; CPU-ms per request holds up best.`,
      `Placement and order: ${pin ? 'every server process on core 0, the load generator (and this orchestrator) on core 1' : 'no pinning'}; client and server still share the machine. All servers run for the whole measurement, idle but for the one measured; each load is run against every endpoint back to back, in alternating order, so outside load falls on all alike. Every endpoint first warmed up for ${warmupSeconds} s at 16 callers (Loopline with its prediction log, and the Kafka broker behind it, needs seconds of traffic to reach its steady state), then one pass, ${seconds} s per run after a 0.5 s warm-up; no repetitions: under such load single figures moved by up to 2× between runs, so trust what holds across runs.`,
      `Model: scikit-learn ${summary.sklearn} GradientBoostingClassifier, ${summary.trees} trees of depth 3, ${summary.features} float features, trained on ${summary.trainRows} seeded synthetic rows (make_classification); the same fitted model as ONNX (skl2onnx, zipmap off; ${summary.onnxBytes} bytes), MLflow sklearn model and MLServer joblib. Every endpoint's labels were checked against scikit-learn's on 64 rows before timing.`,
      'Client: one Node process (bench/serving/load-worker.ts) for every system: node:http with keep-alive (one connection per concurrent caller, 64 for the open loop) sending JSON, and @grpc/grpc-js on proto/inference/grpc_predict_v2.proto (one HTTP/2 channel, typed `fp32_contents`). Loopline and MLServer get the same OIP body (`features` FP32 [n, 10]); Loopline answers both outputs (`label`, `probabilities`), MLServer `predict`, MLflow `predictions`.',
      `Columns: req/s = answered requests per wall second; p50/p99 = client-measured latency from the moment a request was issued (for the open loop, "p99 from schedule" in the log adds the client's timer lag); server cores busy = server CPU-seconds per wall second; server CPU-ms/req = utime+stime of the server's whole process tree (procfs) over the run ÷ requests; req/s per server core = requests ÷ server CPU-seconds (what one fully used core would answer); client CPU-ms/req = the load generator's own CPU ÷ requests; errors · late (open loop) = failed or dropped requests (at most 1,024 in flight) · sends more than 1 ms behind schedule out of those scheduled.`,
      `Loopline: serving with its defaults (one Node process, ONNX Runtime with 1 intra-op thread, dynamic batching up to 32 rows, prediction log to Kafka on, LOOPLINE_LOG_LEVEL=warn), registry and Kafka/PostgreSQL unpinned; "Loopline, no prediction log" is a second instance with LOOPLINE_SERVING_LOG_PREDICTIONS=false, for comparison only. The Kafka broker's CPU for receiving the prediction log is not in the server column; it was (CPU-ms per request): ${kafkaCpu.join(', ') || 'not measured'}.`,
    );
    const report: Report = { title: 'Serving benchmark: Loopline vs mlflow models serve vs Seldon MLServer', rows, goals, notes };
    step('results');
    console.log('');
    console.log(renderTable(report));
    console.log('');
    for (const line of renderGoals(report)) console.log(line);
    console.log('');
    for (const note of notes) console.log(`- ${note}`);
    const date = new Date().toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
    if (process.env.BENCH_SYSTEMS === undefined && process.env.BENCH_SERVING_NODE_ARGS === undefined) {
      writeFileSync(join(__dirname, 'RESULTS.md'), renderMarkdown(report, date));
      console.log(`\nwritten to bench/serving/RESULTS.md (${elapsed()} in all)`);
    } else console.log(`\npartial or profiled run: bench/serving/RESULTS.md left as it was (${elapsed()} in all)`);
  } finally {
    step('stopping everything');
    await cleanUp();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
