// Writes the flights fixtures of the feature-store flow with chDB, in a process of its own: the
// first `rows` flights of flights-3m.parquet (vega-datasets) as `trips` (date, origin,
// destination, delay, distance) and as labelled entity rows (date, origin, distance,
// label = delay > 15). Usage: node -r @swc-node/register flights-parquet.ts <folder> <rows>
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createClickHouseClient } from '@loopline/infra';

async function main(): Promise<void> {
  const [folder, rowsText] = process.argv.slice(2);
  const flights = resolve(__dirname, '..', '..', '..', 'node_modules', 'vega-datasets', 'data', 'flights-3m.parquet');
  const scratch = mkdtempSync(join(tmpdir(), 'loopline-flights-'));
  const client = createClickHouseClient({ path: scratch });
  const source = `(SELECT * FROM file('${flights}', Parquet) WHERE date IS NOT NULL AND delay IS NOT NULL ORDER BY date, origin, destination, delay LIMIT ${Number(rowsText)})`;
  try {
    await client.command({
      query: `INSERT INTO FUNCTION file('${join(folder!, 'trips.parquet')}', Parquet) SELECT toDateTime64(date, 3, 'UTC') AS date, assumeNotNull(origin) AS origin, assumeNotNull(destination) AS destination, toInt32(delay) AS delay, toFloat64(distance) AS distance FROM ${source} ORDER BY date, origin, destination, delay`,
      clickhouse_settings: { engine_file_truncate_on_insert: 1 },
    });
    await client.command({
      query: `INSERT INTO FUNCTION file('${join(folder!, 'labels.parquet')}', Parquet) SELECT toDateTime64(date, 3, 'UTC') AS date, assumeNotNull(origin) AS origin, toFloat64(distance) AS distance, toUInt8(delay > 15) AS label FROM ${source} ORDER BY date, origin, destination, delay`,
      clickhouse_settings: { engine_file_truncate_on_insert: 1 },
    });
  } finally {
    await client.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
