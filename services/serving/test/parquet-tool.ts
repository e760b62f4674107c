// Parquet for the serving tests, with chDB in a process of its own (chDB holds one data folder per
// process, and serving, in the test process, has its own):
//   write <file.parquet> <structure> <rows.jsonl>   writes the JSON lines as Parquet
//   read <file.parquet>                             prints the rows as JSON lines, types as DESCRIBE says
// Usage: node -r @swc-node/register parquet-tool.ts <command> …
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClickHouseClient } from '@loopline/infra';

const quote = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

async function main(): Promise<void> {
  const [command, file, structure, rowsFile] = process.argv.slice(2);
  const scratch = mkdtempSync(join(tmpdir(), 'loopline-parquet-tool-'));
  const client = createClickHouseClient({ path: scratch });
  try {
    if (command === 'write') {
      await client.command({
        query: `INSERT INTO FUNCTION file(${quote(file!)}, 'Parquet') SELECT * FROM file(${quote(rowsFile!)}, JSONEachRow, ${quote(structure!)})`,
        clickhouse_settings: { engine_file_truncate_on_insert: 1 },
      });
    } else if (command === 'read') {
      const described = await (await client.query({ query: `DESCRIBE file(${quote(file!)}, Parquet)`, format: 'JSONEachRow' })).json<{ name: string; type: string }>();
      const rows = await (await client.query({ query: `SELECT * FROM file(${quote(file!)}, Parquet)`, format: 'JSONEachRow', clickhouse_settings: { output_format_json_quote_64bit_integers: 0, max_threads: 1 } })).json();
      process.stdout.write(`${JSON.stringify({ columns: described.map((column) => [column.name, column.type]), rows })}\n`);
    } else {
      throw new Error(`unknown command ${command}`);
    }
  } finally {
    await client.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
