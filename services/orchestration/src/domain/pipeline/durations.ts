// Durations as people write them in pipeline files: `500ms`, `30s`, `10m`, `1h30m`, `2d`, or a
// plain number of seconds.

const units: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const maxMs = 30 * 86_400_000;

/** Milliseconds, or a reason the value is not a duration. */
export function parseDuration(value: unknown): { readonly ms: number } | { readonly error: string } {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return { error: 'a duration is a non-negative number of seconds or a text like 30s, 10m, 1h30m' };
    return check(Math.round(value * 1000));
  }
  if (typeof value !== 'string') return { error: `expected a duration such as "30s" or "10m", got ${value === null ? 'null' : typeof value}` };
  const text = value.trim();
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(text)) return { error: `"${value}" is not a duration: use e.g. 500ms, 30s, 10m, 1h30m, 2d` };
  let total = 0;
  for (const match of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) total += Number(match[1]) * units[match[2]!]!;
  return check(Math.round(total));
}

function check(ms: number): { readonly ms: number } | { readonly error: string } {
  return ms > maxMs ? { error: 'a duration may not exceed 30 days' } : { ms };
}

/** `90000` → `1m30s`, for messages and views. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${ms}ms`;
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, size] of [['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]] as const) {
    const count = Math.floor(rest / size);
    if (count > 0) parts.push(`${count}${unit}`);
    rest -= count * size;
  }
  return parts.join('');
}
