// Durations as definitions write them: `90s`, `30m`, `24h`, `7d`, `2w`. Whole seconds only, so a
// window or TTL means the same thing in ClickHouse, Postgres and the proto `Duration`.

const units: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3_600, d: 86_400, w: 604_800 };
const pattern = /^(\d{1,6})(s|m|h|d|w)$/;

/** Seconds of a duration like `24h`, or `undefined` when the text is not one. */
export function parseDuration(text: string): number | undefined {
  const match = pattern.exec(text.trim());
  if (!match) return undefined;
  const seconds = Number(match[1]) * units[match[2]!]!;
  return seconds > 0 ? seconds : undefined;
}

/** The shortest text for a number of seconds: 86400 → `1d`, 5400 → `90m`. */
export function formatDuration(seconds: number): string {
  for (const unit of ['w', 'd', 'h', 'm'] as const) {
    if (seconds % units[unit]! === 0) return `${seconds / units[unit]!}${unit}`;
  }
  return `${seconds}s`;
}
