// Writes a synthetic training set as Parquet with chDB, in a process of its own (chDB holds one
// data folder per process, and the service under test opens its own). Usage:
//   node -r @swc-node/register make-parquet.ts <out.parquet> <rows> <seed> [regression]
// Columns: event_time (DateTime64), x1, x2 (10% NULL), x3 (Float64), city (String), label (UInt8)
// or target (Float64). label = 1 with probability sigmoid(2·x1 − 1.5·x2 + x1·x3 + effect(city)).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClickHouseClient } from '@loopline/infra';
import { Prng } from '@loopline/ml';

async function main(): Promise<void> {
  const [out, rowsText, seedText, kind] = process.argv.slice(2);
  const rows = Number(rowsText);
  const prng = new Prng(Number(seedText));
  const cities = ['ams', 'ber', 'cdg', 'dub', 'eze'];
  const effects = [-1.5, -0.5, 0, 0.7, 1.6];
  const values: Record<string, unknown>[] = [];
  for (let i = 0; i < rows; i += 1) {
    const x1 = prng.nextGaussian();
    const x2 = prng.nextGaussian();
    const x3 = prng.nextGaussian();
    const k = prng.nextInt(cities.length);
    const z = 2 * x1 - 1.5 * x2 + x1 * x3 + effects[k]!;
    const missing = prng.nextFloat() < 0.1;
    const row: Record<string, unknown> = { event_time: 1_735_689_600_000 + i * 60_000, x1, x2: missing ? null : x2, x3, city: cities[k] };
    if (kind === 'regression') row.target = 3 * x1 - 2 * x2 * x2 + effects[k]! + 0.3 * prng.nextGaussian();
    else row.label = prng.nextFloat() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
    values.push(row);
  }
  const folder = mkdtempSync(join(tmpdir(), 'loopline-parquet-'));
  const client = createClickHouseClient({ path: folder });
  try {
    const labelColumn = kind === 'regression' ? 'target Float64' : 'label UInt8';
    const structure = `event_time DateTime64(3, 'UTC'), x1 Float64, x2 Nullable(Float64), x3 Float64, city String, ${labelColumn}`;
    const escaped = out.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
    await client.insert({
      table: `FUNCTION file('${escaped}', Parquet, '${structure.replace(/'/g, "\\'")}')`,
      // A DateTime64(3) from a JSON number reads it as ticks: milliseconds.
      values,
      format: 'JSONEachRow',
      clickhouse_settings: { engine_file_truncate_on_insert: 1 },
    });
  } finally {
    await client.close();
    rmSync(folder, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
