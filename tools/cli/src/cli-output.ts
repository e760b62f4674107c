// What the platform commands share: argument parsing that turns every mistake into a usage error
// (exit 2), one-line error reporting, and the small formatting helpers of their tables.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError, UsageError } from './service-client';

export type CommandOptions = NonNullable<ParseArgsConfig['options']>;

/** A platform command: its argv after the command's name; returns the exit code. */
export type PlatformCommand = (argv: readonly string[], env?: NodeJS.ProcessEnv) => Promise<number>;

/** `parseArgs` (strict), with its errors turned into `UsageError`s. */
export function parseCommandArgs<O extends CommandOptions>(argv: readonly string[], options: O) {
  try {
    return parseArgs({ args: [...argv], allowPositionals: true, strict: true, options });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message.replace(/\. To specify a positional argument.*$/s, '') : String(error));
  }
}

/**
 * Runs a command body and reports failures as the existing commands do: one line on stderr,
 * prefixed with the command's name; usage errors are followed by the usage text.
 */
export async function runReporting(name: string, usage: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`loopline ${name}: ${error.message}\n\n${usage}`);
      return error.exitCode;
    }
    if (error instanceof CliError) {
      console.error(`loopline ${name}: ${error.message}`);
      return error.exitCode;
    }
    throw error;
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Columns padded to their widest cell; the last column is not padded. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** `2026-11-28T03:04:05.123Z` → `2026-11-28 03:04:05Z`; empty for null. */
export function time(iso: string | null | undefined): string {
  if (!iso) return '';
  return iso.replace('T', ' ').replace(/\.\d+(?=Z$)/, '');
}

export function number(value: number): string {
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  return abs !== 0 && (abs < 0.001 || abs >= 1e9) ? value.toExponential(3) : String(Number(value.toPrecision(6)));
}

/** `key=value, key=value` of a record of metrics, params or tags. */
export function pairs(record: Readonly<Record<string, unknown>> | null | undefined, limit = Infinity): string {
  const entries = Object.entries(record ?? {});
  const shown = entries.slice(0, limit).map(([key, value]) => `${key}=${typeof value === 'number' ? number(value) : typeof value === 'string' ? value : JSON.stringify(value)}`);
  return `${shown.join(', ')}${entries.length > limit ? `, … (${entries.length - limit} more)` : ''}`;
}

export function duration(fromIso: string | null | undefined, toIso: string | null | undefined): string {
  if (!fromIso || !toIso) return '';
  const ms = Date.parse(toIso) - Date.parse(fromIso);
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** A SHA-256 or other long id, shortened for tables. */
export function short(id: string, length = 12): string {
  return id.length > length ? id.slice(0, length) : id;
}

export function bytes(size: number): string {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KiB`;
  return `${(size / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * A time given on the command line, as the ISO-8601 the services expect: `2026-11-28T10:00:00Z`,
 * with a zone offset, or without one (read as UTC); a bare date means its midnight UTC.
 */
export function parseTimeArgument(value: string, option: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:?\d{2})?)?$/.exec(value.trim());
  if (!match) throw new UsageError(`${option} "${value}": expected an ISO-8601 time such as 2026-11-28T10:00:00Z (a time without a zone is UTC)`);
  const [, date, clock, zone] = match;
  const parsed = Date.parse(`${date}T${clock ?? '00:00:00'}${zone ?? 'Z'}`);
  if (Number.isNaN(parsed)) throw new UsageError(`${option} "${value}" is not a valid time`);
  return new Date(parsed).toISOString();
}

/** `key=value` pairs of repeated options; a pair without `=` is a usage error naming the option. */
export function keyValues(entries: readonly string[] | undefined, option: string): [string, string][] {
  return (entries ?? []).map((entry) => {
    const at = entry.indexOf('=');
    if (at <= 0) throw new UsageError(`${option} "${entry}": expected name=value`);
    return [entry.slice(0, at), entry.slice(at + 1)];
  });
}
