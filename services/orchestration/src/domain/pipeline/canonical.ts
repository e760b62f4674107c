// Canonical JSON (keys sorted, no whitespace) and its SHA-256: the identity of definitions and
// the cache keys of tasks. Pure: hashing is a computation, not I/O.
import { createHash } from 'node:crypto';
import type { JsonValue } from '../expressions/expression';

export function canonicalJson(value: JsonValue | undefined): string {
  if (value === undefined || value === null) return 'null';
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item as JsonValue)).join(',')}]`;
  if (typeof value === 'object') {
    const record = value as { readonly [key: string]: JsonValue };
    const keys = Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return 'null';
  return JSON.stringify(value);
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export function hashJson(value: JsonValue): string {
  return sha256Hex(canonicalJson(value));
}
