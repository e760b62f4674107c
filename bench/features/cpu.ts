// CPU time of a process and its descendants, from procfs (utime + stime): the fairest
// cross-language cost measure on a shared 2-core machine (REFERENCE 8.4), since it does not
// depend on what else runs beside the server.
import { readFileSync, readdirSync } from 'node:fs';

const ticksPerSecond = 100;

function children(pid: number): number[] {
  const found: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (text) found.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    // the process is gone
  }
  return found;
}

function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 after the command name.
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return 0;
  }
}

/** `pid` and every live descendant. */
export function processTree(pid: number): number[] {
  const found: number[] = [];
  const pending = [pid];
  while (pending.length > 0) {
    const next = pending.pop()!;
    found.push(next);
    pending.push(...children(next));
  }
  return found;
}

/** CPU seconds used so far by `pid` and every live descendant. */
export function cpuSecondsOfTree(pid: number): number {
  return processTree(pid).reduce((total, next) => total + cpuSecondsOf(next), 0);
}
