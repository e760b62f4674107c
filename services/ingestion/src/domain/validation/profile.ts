// What the data engine measures of a candidate dataset, and what validation reads. A profile is
// stored (as JSON, content-addressed) with every dataset version, so that the next version of the
// source can be compared with it without reading the old data again.
import type { ColumnType } from '../source/source-definition';

/** Rows breaking one rule: how many, the first one (1-based data row of the input) and its value. */
export interface Violations {
  readonly count: number;
  /** 1-based row of the input file (the CSV header is not a row); null when count is 0. */
  readonly firstRow: number | null;
  readonly sample: string | null;
}

export const noViolations: Violations = { count: 0, firstRow: null, sample: null };

export interface CategoryCount {
  readonly value: string;
  readonly count: number;
}

/** Number of evenly spaced quantiles kept per numeric column (0, 1%, …, 100%). */
export const quantileCount = 101;

export interface ColumnProfile {
  readonly name: string;
  readonly type: ColumnType;
  /** Values that are present and parsed as the declared type. */
  readonly count: number;
  /** Nulls in the input (type mismatches not included: those are in `typeMismatch`). */
  readonly nullCount: number;
  readonly typeMismatch: Violations;
  /** Null when the column declares no range. */
  readonly outOfRange: Violations | null;
  /** Null when the column declares no categories. */
  readonly unknownCategory: Violations | null;
  /** Smallest and largest value: numbers for int64/float64, ISO text for timestamp/date, text otherwise. */
  readonly min: number | string | boolean | null;
  readonly max: number | string | boolean | null;
  readonly mean: number | null;
  readonly distinctCount: number;
  /**
   * Numeric, timestamp (epoch seconds) and date (days since 1970-01-01) columns: the quantiles
   * at 0, 1%, …, 100% of the non-null values, from a deterministic sample of 8,192 rows (exact
   * below that; bounded memory above); null for other types or no values.
   */
  readonly quantiles: readonly number[] | null;
  /** String and bool columns: the most frequent values (at most 1,000), most frequent first. */
  readonly topCategories: readonly CategoryCount[] | null;
  /** Non-null values outside `topCategories`. */
  readonly otherCategoriesCount: number;
}

export interface DatasetProfile {
  readonly rowCount: number;
  readonly columns: readonly ColumnProfile[];
  /** Columns of the input that the schema does not declare (dropped from the stored version). */
  readonly unexpectedColumns: readonly string[];
  /** Earliest and latest event time (ISO text), or null without an event-time column or values. */
  readonly eventTimeRange: { readonly start: string; readonly end: string } | null;
}

/** The summary of a column kept in events and API answers (the profile without its sketches). */
export interface ColumnStatistics {
  readonly name: string;
  readonly count: number;
  readonly nullCount: number;
  readonly min: number | string | boolean | null;
  readonly max: number | string | boolean | null;
  readonly mean: number | null;
  readonly distinctCount: number;
}

export function columnStatistics(profile: DatasetProfile): ColumnStatistics[] {
  return profile.columns.map((column) => ({
    name: column.name,
    count: column.count,
    nullCount: column.nullCount + column.typeMismatch.count,
    min: column.min,
    max: column.max,
    mean: column.mean,
    distinctCount: column.distinctCount,
  }));
}
