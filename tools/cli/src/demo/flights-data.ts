// The demo's data: `flights-3m.parquet` of the vega-datasets package (3M US flights, Jan–Jun 2001),
// sliced by time with ClickHouse in-process (chDB), the way the services read Parquet. Rows never
// pass through JavaScript except the sampled flights replayed as live traffic.
//
// Time travel: the platform serves live, so online features older than their view's TTL (measured
// from the real clock) are withheld. The data is therefore shifted forward by whole weeks
// (`shiftDays`, a multiple of 7: hours and weekdays stay what they were) so that the replay starts
// now; bounds and replayed flights are given and returned in 2001 time, only what enters the
// platform is shifted.
//
// The label enters here: every slice gets a `delayed` column (delay > 15 min, as 0/1), declared
// in the demo's source schema (examples/demo/flights-source.json), so it is a column of every
// dataset version, hence of every training set. Flights without a delay are dropped (none in
// this file, but a label must exist).
import { mkdirSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { createClickHouseClient } from '@loopline/infra';

export const flightsParquet = resolve(__dirname, '..', '..', '..', '..', 'node_modules', 'vega-datasets', 'data', 'flights-3m.parquet');

const quote = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const time = (date: Date) => `toDateTime64(${quote(date.toISOString().replace('T', ' ').replace('Z', ''))}, 6, 'UTC')`;

/** A flight as replayed: what is known before departure, and the delay learnt after it. */
export interface Flight {
  readonly date: Date;
  readonly origin: string;
  readonly destination: string;
  readonly distance: number;
  readonly delay: number;
}

/**
 * The seeded sample: a flight is in it when a hash of its own fields (and the seed) falls under the
 * fraction, so the same flight is in or out on every run and in every slice.
 */
function sampleFilter(fraction: number, seed: number): string {
  if (fraction >= 1) return '1';
  const cutoff = Math.max(1, Math.round(fraction * 1_000_000));
  return `cityHash64(date, origin, destination, distance, delay, ${Math.trunc(seed)}) % 1000000 < ${cutoff}`;
}

export class FlightsData {
  private readonly client: ClickHouseClient;

  constructor(
    workDir: string,
    private readonly shiftDays = 0,
    private readonly source = flightsParquet,
  ) {
    if (shiftDays % 7 !== 0) throw new Error(`the flights may only be shifted by whole weeks, not ${shiftDays} days`);
    this.client = createClickHouseClient({ path: join(workDir, 'chdb') });
  }

  /** A 2001 time as the platform sees it. */
  shifted(date: Date): Date {
    return new Date(date.getTime() + this.shiftDays * 86_400_000);
  }

  private get table(): string {
    return `file(${quote(this.source)}, Parquet)`;
  }

  /**
   * Writes the flights of [from, to) (a `fraction` of them, seeded) with their `delayed` label to
   * a Parquet file, atomically (a reader never sees half a file). Returns the row count.
   */
  async writeSlice(file: string, from: Date, to: Date, fraction: number, seed: number): Promise<number> {
    mkdirSync(dirname(file), { recursive: true });
    const partial = `${file}.partial`;
    const where = `date >= ${time(from)} AND date < ${time(to)} AND delay IS NOT NULL AND ${sampleFilter(fraction, seed)}`;
    await this.client.command({
      // The inner query filters on the file's own (2001) times; the outer one shifts them.
      query:
        `INSERT INTO FUNCTION file(${quote(partial)}, Parquet) ` +
        `SELECT addDays(departure, ${Math.trunc(this.shiftDays)}) AS date, delay, distance, origin, destination, toUInt8(delay > 15) AS delayed ` +
        `FROM (SELECT date AS departure, delay, distance, origin, destination FROM ${this.table} WHERE ${where}) ` +
        `ORDER BY departure, origin, destination SETTINGS engine_file_truncate_on_insert = 1, output_format_parquet_compression_method = 'zstd'`,
    });
    const counted = (await (await this.client.query({ query: `SELECT count() AS n FROM file(${quote(partial)}, Parquet)`, format: 'JSONEachRow' })).json()) as { n: string | number }[];
    renameSync(partial, file);
    return Number(counted[0]?.n ?? 0);
  }

  /** The sampled flights of [from, to), in departure order: the live traffic of the replay. */
  async flights(from: Date, to: Date, fraction: number, seed: number): Promise<Flight[]> {
    const where = `date >= ${time(from)} AND date < ${time(to)} AND delay IS NOT NULL AND ${sampleFilter(fraction, seed + 1)}`;
    const result = await this.client.query({
      query: `SELECT toUnixTimestamp64Milli(toDateTime64(date, 3, 'UTC')) AS t, origin, destination, distance, delay FROM ${this.table} WHERE ${where} ORDER BY date, origin, destination`,
      format: 'JSONCompactEachRow',
    });
    const rows = (await result.json()) as [string | number, string, string, string | number, string | number][];
    return rows.map(([t, origin, destination, distance, delay]) => ({ date: new Date(Number(t)), origin, destination, distance: Number(distance), delay: Number(delay) }));
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
