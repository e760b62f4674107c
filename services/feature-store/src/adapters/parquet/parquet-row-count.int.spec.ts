// parquetRowCount against Parquet that ClickHouse (chDB, in this process) writes with the
// training sets' settings: empty, one row, several row groups, nested and nullable columns (their
// schema elements are what the reader must skip), and files that are not Parquet.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ClickHouseClient } from '@clickhouse/client';
import { createClickHouseClient } from '@loopline/infra';
import { testInfra, uniqueName } from '@loopline/testing';
import { parquetRowCount } from './parquet-row-count';

describe('parquetRowCount', () => {
  let clickhouse: ClickHouseClient;
  let folder: string;

  const write = async (name: string, select: string, rowGroupSize = 100_000) => {
    const path = join(folder, `${name}.parquet`);
    await clickhouse.command({
      query: `INSERT INTO FUNCTION file('${path}', 'Parquet') ${select}`,
      clickhouse_settings: { engine_file_truncate_on_insert: 1, max_threads: 1, output_format_parquet_row_group_size: String(rowGroupSize) },
    });
    return path;
  };

  before(() => {
    folder = join(testInfra().dataDir, uniqueName('parquet_row_count'));
    mkdirSync(folder, { recursive: true });
    clickhouse = createClickHouseClient({ path: join(folder, 'chdb') });
  });

  after(async () => {
    await clickhouse?.close();
  });

  describe('when the file is Parquet', () => {
    it('reads the row count ClickHouse wrote, whatever the columns and row groups', async () => {
      const cases: [string, string, number, number?][] = [
        ['one', `SELECT 1 AS x`, 1],
        ['empty', `SELECT number AS x FROM numbers(10) WHERE x > 100`, 0],
        ['groups', `SELECT number AS x, toString(number) AS s, if(number % 3 = 0, NULL, number / 7) AS n FROM numbers(250000)`, 250_000, 100_000],
        [
          'nested',
          `SELECT number AS id, [number, number + 1] AS list, map('k', number) AS m, tuple(number, 'a') AS t, number % 2 = 0 AS flag, toDateTime64(number, 3, 'UTC') AS at FROM numbers(1234)`,
          1234,
          100,
        ],
      ];
      for (const [name, select, rows, rowGroupSize] of cases) {
        const path = await write(name, select, rowGroupSize);
        const counted = await clickhouse.query({ query: `SELECT count() AS n FROM file('${path}', 'Parquet')`, format: 'JSONEachRow' });
        assert.equal(Number((await counted.json<{ n: string }>())[0]!.n), rows, `${name}: ClickHouse's own count`);
        assert.equal(await parquetRowCount(path), rows, name);
      }
    });
  });

  describe('when the file is not Parquet', () => {
    it('refuses it, saying why', async () => {
      const text = join(folder, 'text.parquet');
      writeFileSync(text, 'not parquet at all, only text');
      await assert.rejects(parquetRowCount(text), /magic bytes/);
      const corrupt = join(folder, 'corrupt.parquet');
      writeFileSync(corrupt, Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(200, 7), Buffer.from('PAR1')]));
      await assert.rejects(parquetRowCount(corrupt), /footer length/);
      const short = join(folder, 'short.parquet');
      writeFileSync(short, 'PAR1PAR1');
      await assert.rejects(parquetRowCount(short), /too few/);
    });
  });
});
