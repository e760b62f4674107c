import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { InfrastructureError } from './errors';

/**
 * What we remember about a process we started, in `<dataDir>/run/<name>.json`. The `marker` is a
 * string of its command line: a pid file left by a crash may name a pid the kernel has since given
 * to an unrelated process, and that one must never be reused or signalled.
 */
export interface PidRecord {
  readonly name: string;
  readonly pid: number;
  readonly marker: string;
  readonly startedAt: string;
  /** Where it listens, for `loopline status`. */
  readonly endpoint: string;
}

export interface SpawnOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly uid?: number;
  readonly gid?: number;
  readonly logFile: string;
  readonly pidFile: string;
  readonly marker: string;
  readonly endpoint: string;
}

/**
 * Starts a process in its own process group (so a terminal's Ctrl-C reaches only us, and we stop
 * things in dependency order), output appended to its log file, and records it in its pid file.
 */
export function spawnManaged(options: SpawnOptions): PidRecord {
  mkdirSync(dirname(options.logFile), { recursive: true });
  mkdirSync(dirname(options.pidFile), { recursive: true });
  const log = openSync(options.logFile, 'a');
  try {
    const child = spawn(options.command, [...options.args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      uid: options.uid,
      gid: options.gid,
      detached: true,
      stdio: ['ignore', log, log],
    });
    if (child.pid === undefined) {
      throw new InfrastructureError('START_FAILED', `could not start ${options.name} (${options.command})`);
    }
    child.unref();
    const record: PidRecord = {
      name: options.name,
      pid: child.pid,
      marker: options.marker,
      startedAt: new Date().toISOString(),
      endpoint: options.endpoint,
    };
    writeFileSync(options.pidFile, JSON.stringify(record, null, 2) + '\n');
    return record;
  } finally {
    closeSync(log);
  }
}

export function readPidRecord(pidFile: string): PidRecord | undefined {
  try {
    return JSON.parse(readFileSync(pidFile, 'utf8')) as PidRecord;
  } catch {
    return undefined;
  }
}

export function removePidRecord(pidFile: string): void {
  rmSync(pidFile, { force: true });
}

/** True when `pid` is alive and is still the process we started (its command line has the marker). */
export function isOurProcessAlive(record: Pick<PidRecord, 'pid' | 'marker'>): boolean {
  try {
    const cmdline = readFileSync(`/proc/${record.pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    const stat = readFileSync(`/proc/${record.pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return !hasExited(record.pid, state) && cmdline.includes(record.marker);
  } catch {
    return false;
  }
}

/** Pids of every live process in a process group (the group leader's pid names the group). */
export function processGroupMembers(groupId: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const pgrp = Number(fields[2]);
      if (pgrp === groupId && !hasExited(Number(entry), fields[0])) members.push(Number(entry));
    } catch {
      // the process exited while we looked
    }
  }
  return members;
}

/**
 * A zombie has exited and only waits to be reaped. But the main thread of a multi-threaded process
 * (a JVM) turns zombie before its other threads finish exiting, and those still hold its sockets:
 * the process is gone only when no thread is left running.
 */
function hasExited(pid: number, state: string | undefined): boolean {
  if (state !== 'Z') return false;
  try {
    return readdirSync(`/proc/${pid}/task`).length <= 1;
  } catch {
    return true;
  }
}

/**
 * Stops a process group: `signal` first (each component names its graceful one), SIGKILL after
 * `graceMs`. Resolves once no member of the group is left.
 */
export async function stopProcessGroup(record: PidRecord, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  // Signal only a group whose leader is still ours: after a crash the pid may belong to a stranger.
  if (!isOurProcessAlive(record)) return;
  signalGroup(record.pid, signal);
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (processGroupMembers(record.pid).length === 0) return;
    await sleep(100);
  }
  signalGroup(record.pid, 'SIGKILL');
  const killDeadline = Date.now() + 5_000;
  while (Date.now() < killDeadline) {
    if (processGroupMembers(record.pid).length === 0) return;
    await sleep(50);
  }
  throw new InfrastructureError('START_FAILED', `${record.name} (pid ${record.pid}) did not exit after SIGKILL`);
}

function signalGroup(groupId: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-groupId, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until `probe` resolves true, or fails with the last reason after `timeoutMs`. */
export async function waitUntilHealthy(
  what: string,
  probe: () => Promise<boolean>,
  options: { timeoutMs: number; alive?: () => boolean; logFile?: string },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    if (options.alive && !options.alive()) {
      throw new InfrastructureError('START_FAILED', `${what} exited during start-up${logHint(options.logFile)}`);
    }
    try {
      if (await probe()) return;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    await sleep(200);
  }
  throw new InfrastructureError(
    'UNHEALTHY',
    `${what} did not become healthy within ${options.timeoutMs / 1000} s${lastError ? ` (last error: ${lastError})` : ''}${logHint(options.logFile)}`,
  );
}

function logHint(logFile: string | undefined): string {
  if (!logFile) return '';
  try {
    const tail = readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-15).join('\n');
    return `; see ${logFile}; last lines:\n${tail}`;
  } catch {
    return `; see ${logFile}`;
  }
}
