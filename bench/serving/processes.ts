// Child processes of the serving benchmark: started in a process group of their own (so the
// group, and only it, is signalled at the end), with their output kept in a log file; and the CPU
// time of a process tree, read from procfs.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';

export interface Started {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly logFile: string;
  /** The last lines it wrote, for error messages. */
  tail(): string;
  /** SIGTERM to its process group, SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly logFile: string;
  /** Cores it may run on (`taskset -c`); every process it starts inherits them. */
  readonly cores?: string;
}

export function startProcess(options: StartOptions): Started {
  const [command, args] = options.cores ? ['taskset', ['-c', options.cores, options.command, ...options.args]] : [options.command, [...options.args]];
  // detached: a process group of its own, led by this pid (taskset execs the command in place).
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(options.logFile);
  let recent = '';
  const keep = (chunk: Buffer) => {
    recent = (recent + chunk.toString('utf8')).slice(-6_000);
  };
  child.stdout!.on('data', keep).pipe(log);
  child.stderr!.on('data', keep).pipe(log);
  if (child.pid === undefined) throw new Error(`${options.name}: could not start ${command}`);
  const pid = child.pid;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name: options.name,
    child,
    pid,
    logFile: options.logFile,
    tail: () => recent.split('\n').slice(-25).join('\n'),
    stop: async (graceMs = 15_000) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        signalGroup(pid, 'SIGKILL'); // leftovers of a group whose leader is gone
        return;
      }
      signalGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      // Workers that outlive their leader (e.g. a multiprocessing pool) go with the group.
      await new Promise((resolve) => setTimeout(resolve, 200));
      signalGroup(pid, 'SIGKILL');
    },
  };
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group is gone
  }
}

export function pinSelf(cores: string): void {
  spawnSync('taskset', ['-cp', cores, String(process.pid)], { stdio: 'ignore' });
}

const clockTicks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

interface ProcStat {
  readonly ppid: number;
  /** utime + stime, in clock ticks. */
  readonly ticks: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields are counted after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

/** The pids of `roots` and of all their descendants, now. */
export function processTree(roots: readonly number[]): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (!stat) continue;
    const siblings = children.get(stat.ppid) ?? [];
    siblings.push(Number(entry));
    children.set(stat.ppid, siblings);
  }
  const tree: number[] = [];
  const pending = roots.filter((pid) => readStat(pid) !== undefined);
  while (pending.length > 0) {
    const pid = pending.pop()!;
    tree.push(pid);
    pending.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/** CPU milliseconds (user + system, all threads) each of the given processes used so far. */
export function cpuSnapshot(pids: readonly number[]): Map<number, number> {
  const snapshot = new Map<number, number>();
  for (const pid of pids) {
    const stat = readStat(pid);
    if (stat) snapshot.set(pid, (stat.ticks * 1000) / clockTicks);
  }
  return snapshot;
}

/** CPU milliseconds used between two snapshots, by the processes alive at both. */
export function cpuUsedBetween(before: Map<number, number>, after: Map<number, number>): number {
  let used = 0;
  for (const [pid, start] of before) {
    const end = after.get(pid);
    if (end !== undefined) used += Math.max(0, end - start);
  }
  return used;
}
