// Reads a Parquet file into typed columns with ClickHouse in-process (chDB): numbers (ints,
// floats, decimals, booleans) as float64, dates and times as epoch milliseconds, strings (and
// anything else) as categories; NULL as NaN / null. chDB is opened lazily, once per process.
import type { ClickHouseClient } from '@clickhouse/client';
import { createClickHouseClient } from '@loopline/infra';
import { categoricalColumn, createDataset, DatasetError, numericColumn, type Column, type Dataset } from '@loopline/ml';
import type { DatasetReader } from '../../application/ports';

const quoteString = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const quoteIdentifier = (name: string) => `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;

// ClickHouse's column-wise JSON, which @clickhouse/client's format list does not name (it is only
// read as text here).
const columnarFormat = 'JSONCompactColumns' as unknown as 'JSON';

type Kind = 'numeric' | 'time' | 'categorical';

function kindOf(type: string): Kind {
  const inner = type.replace(/^(Nullable|LowCardinality)\((.*)\)$/, '$2').replace(/^(Nullable|LowCardinality)\((.*)\)$/, '$2');
  if (/^(U?Int\d+|Float\d+|Decimal.*|Bool)$/.test(inner)) return 'numeric';
  if (/^(Date|Date32|DateTime.*)$/.test(inner)) return 'time';
  return 'categorical';
}

export class ChdbDatasetReader implements DatasetReader {
  private client: ClickHouseClient | undefined;

  constructor(private readonly dataPath: string) {}

  async read(path: string, columns: readonly string[]): Promise<Dataset> {
    const client = (this.client ??= createClickHouseClient({ path: this.dataPath }));
    const source = `file(${quoteString(path)}, Parquet)`;
    const described = (await (await client.query({ query: `DESCRIBE ${source}`, format: 'JSONEachRow' })).json()) as { name: string; type: string }[];
    const types = new Map(described.map((column) => [column.name, column.type]));
    const missing = columns.filter((column) => !types.has(column));
    if (missing.length > 0) throw new DatasetError(`the training set has no column(s) ${missing.join(', ')} (it has: ${described.map((column) => column.name).join(', ')})`);
    const kinds = columns.map((column) => kindOf(types.get(column)!));
    const select = columns
      .map((column, index) => {
        const name = quoteIdentifier(column);
        if (kinds[index] === 'numeric') return `toFloat64(${name})`;
        if (kinds[index] === 'time') return `toFloat64(toUnixTimestamp64Milli(toDateTime64(${name}, 3, 'UTC')))`;
        return `toString(${name})`;
      })
      .map((expression, index) => `${kinds[index] === 'categorical' ? `if(isNull(${quoteIdentifier(columns[index]!)}), NULL, ${expression})` : expression} AS c${index}`)
      .join(', ');
    // JSONCompactColumns: one array per column; NaN/inf come back as null under the JSON default.
    const text = await (await client.query({ query: `SELECT ${select} FROM ${source}`, format: columnarFormat })).text();
    const arrays = JSON.parse(text) as (number | string | null)[][];
    const built: [string, Column][] = columns.map((column, index) => {
      const values = arrays[index] ?? [];
      return [column, kinds[index] === 'categorical' ? categoricalColumn(values as (string | null)[]) : numericColumn(values as (number | null)[])];
    });
    return createDataset(built);
  }

  async close(): Promise<void> {
    await this.client?.close();
    this.client = undefined;
  }
}
