// SQL building blocks for the data engine. Identifiers come from validated schemas (column names
// match /^[A-Za-z_][A-Za-z0-9_]*$/) and are quoted anyway; every value from a client (category,
// bound, path) becomes a string literal through `literal`, never raw text.
import type { ColumnDefinition, ColumnType } from '../../domain/source/source-definition';
import type { InputFormat } from '../../domain/source/data-source';

export function identifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`not a safe identifier: ${JSON.stringify(name)}`);
  return `\`${name}\``;
}

/** A ClickHouse string literal: backslash and quote escaped, control characters as escapes. */
export function literal(value: string): string {
  return `'${value.replace(/[\\']/g, (char) => `\\${char}`).replace(/[\x00-\x1f]/g, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`)}'`;
}

/**
 * The `file()` table function reads glob patterns (`*`, `?`, `{a,b}`): a path holding one would
 * read other files than the one meant. Our own paths never do; imports are checked with this.
 */
export function hasGlobCharacters(path: string): boolean {
  return /[*?{}[\]]/.test(path);
}

export function fileFunction(path: string, format: string, structure?: string): string {
  if (hasGlobCharacters(path)) throw new Error(`refusing a path with glob characters: ${JSON.stringify(path)}`);
  return `file(${literal(path)}, ${literal(format)}${structure !== undefined ? `, ${literal(structure)}` : ''})`;
}

export const clickHouseFormat: Readonly<Record<InputFormat, string>> = { csv: 'CSVWithNames', jsonl: 'JSONEachRow', parquet: 'Parquet' };

export const clickHouseType: Readonly<Record<ColumnType, string>> = {
  int64: 'Int64',
  float64: 'Float64',
  string: 'String',
  bool: 'Bool',
  timestamp: "DateTime64(6, 'UTC')",
  date: 'Date32',
};

/** Whether a ClickHouse type (as DESCRIBE prints it) is text. */
export function isTextType(type: string): boolean {
  return /^(Nullable\()?(LowCardinality\()?(Nullable\()?(String|FixedString\(\d+\))\)*$/.test(type);
}

/**
 * How a raw input column becomes the declared type:
 * - `text`: the text with surrounding blanks removed and '' as null, which is what must parse
 *   (a value that is present but does not parse is a type mismatch, not a null);
 * - `parsed`: the declared type, null when absent or unparseable.
 */
export function conversion(column: ColumnDefinition, sourceType: string, rawName: string): { text: string; parsed: string } {
  const raw = identifier(rawName);
  const target = `Nullable(${clickHouseType[column.type]})`;
  if (column.type === 'string') {
    return { text: 'CAST(NULL, \'Nullable(String)\')', parsed: `CAST(${isTextType(sourceType) ? raw : `toString(${raw})`}, ${literal(target)})` };
  }
  if (!isTextType(sourceType)) {
    // Typed input (Parquet): an exact cast or null (1.5 is not an int64; 300 is no date).
    return { text: `toString(${raw})`, parsed: `accurateCastOrNull(${raw}, ${literal(clickHouseType[column.type])})` };
  }
  const text = `nullIf(trimBoth(${raw}), '')`;
  const parse = (() => {
    switch (column.type) {
      case 'int64':
        return `toInt64OrNull(${text})`;
      case 'float64':
        return `toFloat64OrNull(${text})`;
      case 'bool':
        return `multiIf(lower(${text}) IN ('true', 't', '1', 'yes', 'y'), true, lower(${text}) IN ('false', 'f', '0', 'no', 'n'), false, NULL)`;
      case 'timestamp':
        return `parseDateTime64BestEffortOrNull(${text}, 6, 'UTC')`;
      case 'date':
        // toDate32OrNull is lenient (2001-02-30 becomes March 2nd): only a date that prints back as given is one.
        return `if(match(${text}, '^[0-9]{4}-[0-9]{2}-[0-9]{2}$') AND toString(toDate32OrNull(${text})) = ${text}, toDate32OrNull(${text}), NULL)`;
      default: {
        const unreachable: never = column.type;
        throw new Error(`unknown column type ${String(unreachable)}`);
      }
    }
  })();
  return { text, parsed: `CAST(${parse}, ${literal(target)})` };
}

/** A bound as a ClickHouse value of the column's type. */
export function boundLiteral(type: ColumnType, bound: number | string): string {
  switch (type) {
    case 'int64':
      return `toInt64(${Number(bound)})`;
    case 'float64':
      return `toFloat64(${Number(bound)})`;
    case 'timestamp':
      return `parseDateTime64BestEffort(${literal(String(bound))}, 6, 'UTC')`;
    case 'date':
      return `toDate32(${literal(String(bound))})`;
    case 'string':
    case 'bool':
      throw new Error(`${type} columns have no range`);
    default: {
      const unreachable: never = type;
      throw new Error(`unknown column type ${String(unreachable)}`);
    }
  }
}

/** The expression whose quantiles a numeric column's profile keeps (timestamps in epoch seconds, dates in days). */
export function quantileExpression(type: ColumnType, column: string): string | null {
  switch (type) {
    case 'int64':
    case 'float64':
      return `toFloat64(${column})`;
    case 'timestamp':
      return `toFloat64(toUnixTimestamp64Micro(${column})) / 1000000`;
    case 'date':
      return `toFloat64(toInt32(${column}))`;
    case 'string':
    case 'bool':
      return null;
    default: {
      const unreachable: never = type;
      throw new Error(`unknown column type ${String(unreachable)}`);
    }
  }
}
