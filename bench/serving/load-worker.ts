// The load generator of the serving benchmark, in a process of its own (started by main.ts with an
// IPC channel, pinned to its own core): it runs one scenario per message and answers with the
// figures, the CPU the server's process tree used during the measured window (procfs), and its own
// CPU over the same window.
import { readFileSync } from 'node:fs';
import { makeCaller, type Target } from './clients';
import { closedLoop, openLoop, type LoadResult } from './load';
import { cpuSnapshot, cpuUsedBetween, processTree } from './processes';

export interface Scenario {
  readonly target: Target;
  readonly mode: 'closed' | 'open';
  readonly concurrency: number;
  readonly ratePerSecond?: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  /** Callers during the warm-up (default: the run's concurrency, at most 16). */
  readonly warmupConcurrency?: number;
  /** Roots of the server's process tree (every descendant is counted). */
  readonly serverPids: readonly number[];
  /** Other processes whose CPU is reported apart (e.g. the Kafka broker receiving the prediction log). */
  readonly sidePids?: Readonly<Record<string, number>>;
  /** expected.json of prepare_models.py: the rows requests are made of. */
  readonly rowsFile: string;
}

export interface ScenarioResult {
  readonly result: LoadResult;
  readonly serverCpuMs: number;
  readonly serverPids: readonly number[];
  readonly sideCpuMs: Readonly<Record<string, number>>;
  readonly clientCpuMs: number;
}

export interface AgreementCheck {
  readonly target: Target;
  readonly rowsFile: string;
  readonly rows: number;
}

export interface AgreementResult {
  readonly agree: number;
  readonly of: number;
}

type Message = { id: number; kind: 'run'; scenario: Scenario } | { id: number; kind: 'check'; check: AgreementCheck };

const rowsCache = new Map<string, { rows: number[][]; label: number[] }>();
function expected(file: string): { rows: number[][]; label: number[] } {
  let loaded = rowsCache.get(file);
  if (!loaded) {
    loaded = JSON.parse(readFileSync(file, 'utf8')) as { rows: number[][]; label: number[] };
    rowsCache.set(file, loaded);
  }
  return loaded;
}

async function run(scenario: Scenario): Promise<ScenarioResult> {
  const { rows } = expected(scenario.rowsFile);
  const connections = scenario.mode === 'open' ? 64 : scenario.concurrency;
  const caller = makeCaller(scenario.target, rows, connections);
  try {
    if (scenario.warmupSeconds > 0) await closedLoop(caller.call, scenario.warmupConcurrency ?? Math.min(connections, 16), scenario.warmupSeconds);
    const serverPids = processTree(scenario.serverPids);
    const side = Object.entries(scenario.sidePids ?? {}).map(([name, pid]) => [name, processTree([pid])] as const);
    const sideBefore = side.map(([, pids]) => cpuSnapshot(pids));
    const serverBefore = cpuSnapshot(serverPids);
    const clientBefore = process.cpuUsage();
    const result =
      scenario.mode === 'closed' ? await closedLoop(caller.call, scenario.concurrency, scenario.seconds) : await openLoop(caller.call, scenario.ratePerSecond!, scenario.seconds);
    const client = process.cpuUsage(clientBefore);
    const serverCpuMs = cpuUsedBetween(serverBefore, cpuSnapshot(serverPids));
    const sideCpuMs = Object.fromEntries(side.map(([name, pids], index) => [name, cpuUsedBetween(sideBefore[index]!, cpuSnapshot(pids))]));
    return { result, serverCpuMs, serverPids, sideCpuMs, clientCpuMs: (client.user + client.system) / 1000 };
  } finally {
    caller.close();
  }
}

async function check(request: AgreementCheck): Promise<AgreementResult> {
  const { rows, label } = expected(request.rowsFile);
  const caller = makeCaller(request.target, rows, 1);
  try {
    const got = await caller.labels(rows.slice(0, request.rows));
    return { agree: got.filter((value, index) => value === label[index]).length, of: request.rows };
  } finally {
    caller.close();
  }
}

process.on('message', (message: Message) => {
  const work = message.kind === 'run' ? run(message.scenario) : check(message.check);
  work.then(
    (value) => process.send!({ id: message.id, value }),
    (error: unknown) => process.send!({ id: message.id, error: error instanceof Error ? error.message : String(error) }),
  );
});
process.on('disconnect', () => process.exit(0));
