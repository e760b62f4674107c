// Writes the batch benchmark's data with chDB, in a process of its own (the benchmark process has
// its own chDB session): the first <rows> flights of flights-3m.parquet (vega-datasets) with the
// flight model's columns, as <folder>/flights.parquet, and <trainRows> of them as JSON lines for
// training the model. Usage: node -r @swc-node/register batch-data.ts <folder> <rows> <trainRows>
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createClickHouseClient } from '@loopline/infra';

async function main(): Promise<void> {
  const [folder, rowsText, trainText] = process.argv.slice(2);
  const flights = resolve(__dirname, '..', '..', 'node_modules', 'vega-datasets', 'data', 'flights-3m.parquet');
  const scratch = mkdtempSync(join(tmpdir(), 'loopline-batch-bench-'));
  const client = createClickHouseClient({ path: scratch });
  const select = `SELECT toDateTime64(date, 3, 'UTC') AS date, assumeNotNull(origin) AS origin, assumeNotNull(destination) AS destination, toFloat64(distance) AS distance, toFloat64(toHour(date)) AS hour, toFloat64(toDayOfWeek(date)) AS weekday, toUInt8(delay > 15) AS label FROM file('${flights}', Parquet) WHERE date IS NOT NULL AND delay IS NOT NULL`;
  try {
    await client.command({
      query: `INSERT INTO FUNCTION file('${join(folder!, 'flights.parquet')}', Parquet) ${select} LIMIT ${Number(rowsText)}`,
      clickhouse_settings: { engine_file_truncate_on_insert: 1, max_threads: 1 },
    });
    await client.command({
      query: `INSERT INTO FUNCTION file('${join(folder!, 'train.jsonl')}', JSONEachRow) ${select} LIMIT ${Number(trainText)}`,
      clickhouse_settings: { engine_file_truncate_on_insert: 1, max_threads: 1 },
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
