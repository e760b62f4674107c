import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { ValidationError } from '@loopline/errors';

/** A pool (one statement per checkout) or a client inside the caller's transaction. */
export type Queryable = Pick<Pool, 'query'> | Pick<PoolClient, 'query'>;

export type Rows<Row extends QueryResultRow> = { rows: Row[]; rowCount: number | null };

const identifierPattern = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * A schema or table name checked and quoted. Names come from configuration, never from users,
 * but they are spliced into SQL, so anything beyond lower-case identifiers is refused outright.
 */
export function quoteIdentifier(name: string, what: string): string {
  if (!identifierPattern.test(name)) {
    throw new ValidationError(`${what} must match ${identifierPattern.source}`, { [what]: name });
  }
  return `"${name}"`;
}

/** `"schema"."table"` for a checked schema and table name. */
export function qualified(schema: string, table: string): string {
  return `${quoteIdentifier(schema, 'schema')}.${quoteIdentifier(table, 'table')}`;
}

/**
 * pg returns int8 as text (it may exceed 2^53). Positions and versions stay far below that in
 * any real store, so they are numbers in the API; this refuses, loudly, the day one is not.
 */
export function toSafeInteger(value: string | number, what: string): number {
  const parsed = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(parsed)) throw new RangeError(`${what} ${String(value)} is not a safe integer`);
  return parsed;
}

/** SQLSTATE of a pg error, if it is one. */
export function sqlState(error: unknown): { code: string; constraint?: string } | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error) || typeof error.code !== 'string') return undefined;
  const constraint = 'constraint' in error && typeof error.constraint === 'string' ? error.constraint : undefined;
  return { code: error.code, constraint };
}

export const uniqueViolation = '23505';
