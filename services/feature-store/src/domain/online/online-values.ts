// Online lookups as Feast's feature server answers them: one status per value, PRESENT,
// NULL_VALUE (row found, value null), NOT_FOUND (no row for the entity) or OUTSIDE_TTL (the row is
// older than the view's TTL at the time of the lookup).

export type FieldStatus = 'PRESENT' | 'NULL_VALUE' | 'NOT_FOUND' | 'OUTSIDE_TTL';

export type FeatureValue = number | string | boolean | null;

/** The latest values of one entity in one view version, as the online store holds them. */
export interface OnlineRow {
  /** Event time of the values, in milliseconds since the epoch. */
  readonly eventTimeMs: number;
  readonly values: Readonly<Record<string, FeatureValue>>;
}

export interface LookedUpValue {
  readonly value: FeatureValue;
  readonly status: FieldStatus;
  /** Event time of the row the value came from; `null` when NOT_FOUND. */
  readonly eventTimeMs: number | null;
}

const notFound: LookedUpValue = Object.freeze({ value: null, status: 'NOT_FOUND', eventTimeMs: null });

/** The value and status of one feature of one entity at `nowMs`. */
export function lookUpValue(row: OnlineRow | undefined, feature: string, ttlSeconds: number | null, nowMs: number): LookedUpValue {
  if (!row) return notFound;
  if (ttlSeconds !== null && nowMs - row.eventTimeMs > ttlSeconds * 1000) return { value: null, status: 'OUTSIDE_TTL', eventTimeMs: row.eventTimeMs };
  const value = row.values[feature];
  if (value === null || value === undefined) return { value: null, status: 'NULL_VALUE', eventTimeMs: row.eventTimeMs };
  return { value, status: 'PRESENT', eventTimeMs: row.eventTimeMs };
}

/**
 * The online key of an entity: its join-key values as text, in the entity's order, JSON-encoded
 * (so no separator can make two keys collide). Numbers are written as JavaScript prints them,
 * which is how ClickHouse's `toString` prints them too.
 */
export function entityKeyOf(values: readonly (string | number | boolean)[]): string {
  return JSON.stringify(values.map((value) => String(value)));
}
