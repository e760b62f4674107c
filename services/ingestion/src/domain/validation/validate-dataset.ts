// Validation in the spirit of TFX data validation: a candidate's profile is checked against the
// source's declared schema (types, nulls, ranges, categories) and against the previous accepted
// version's profile (row count, distributions). The policy gives each rule a severity: `error`
// anomalies reject the version, `warning` ones are reported only, `off` rules are not checked.
import {
  isNumericType,
  type ColumnDefinition,
  type RuleName,
  type Severity,
  type SourceDefinition,
  type ValidationPolicy,
} from '../source/source-definition';
import { jensenShannonDistance, ksStatistic, lInfinityDistance, populationStabilityIndex } from './distribution';
import type { ColumnProfile, DatasetProfile, Violations } from './profile';

export const anomalyKinds = [
  'EMPTY',
  'UNEXPECTED_COLUMN',
  'TYPE_MISMATCH',
  'TOO_MANY_NULLS',
  'OUT_OF_RANGE',
  'UNKNOWN_CATEGORY',
  'ROW_COUNT_CHANGE',
  'DISTRIBUTION_SHIFT',
] as const;
export type AnomalyKind = (typeof anomalyKinds)[number];

export interface Anomaly {
  readonly kind: AnomalyKind;
  /** The policy rule that found it. */
  readonly rule: RuleName;
  readonly severity: 'error' | 'warning';
  /** Null for dataset-level anomalies. */
  readonly column: string | null;
  readonly description: string;
  readonly expected: string;
  readonly observed: string;
  readonly affectedRowCount: number;
  /** The first input row showing the anomaly (1-based, header excluded), when rows show it. */
  readonly firstRow: number | null;
  /** Its value, as text. */
  readonly sample: string | null;
}

export interface ValidationReport {
  readonly checksEvaluated: number;
  readonly errorCount: number;
  readonly warningCount: number;
  /** Errors first, then warnings; each in column order. */
  readonly anomalies: readonly Anomaly[];
  /** The accepted version the distributions and row count were compared with, if any. */
  readonly comparedWithVersionId: string | null;
}

export interface PreviousVersion {
  readonly versionId: string;
  readonly profile: DatasetProfile;
}

export function validateDataset(definition: SourceDefinition, profile: DatasetProfile, previous: PreviousVersion | null): ValidationReport {
  const { policy } = definition;
  const anomalies: Anomaly[] = [];
  let checks = 0;
  const check = (rule: RuleName, find: () => Omit<Anomaly, 'rule' | 'severity'> | null): void => {
    const severity: Severity = policy.rules[rule];
    if (severity === 'off') return;
    checks += 1;
    const found = find();
    if (found) anomalies.push({ ...found, rule, severity });
  };

  check('emptyDataset', () =>
    profile.rowCount === 0
      ? datasetAnomaly('EMPTY', 'the dataset has no rows', '> 0 rows', '0 rows')
      : null,
  );
  for (const name of profile.unexpectedColumns) {
    check('unexpectedColumns', () => ({
      kind: 'UNEXPECTED_COLUMN',
      column: name,
      description: `column "${name}" is not declared by the schema; it is not stored`,
      expected: 'only declared columns',
      observed: name,
      affectedRowCount: 0,
      firstRow: null,
      sample: null,
    }));
  }

  const profiles = new Map(profile.columns.map((column) => [column.name, column]));
  const previousProfiles = new Map(previous?.profile.columns.map((column) => [column.name, column]) ?? []);
  for (const column of definition.columns) {
    const measured = profiles.get(column.name);
    if (!measured) continue;
    check('typeMismatch', () =>
      violationAnomaly('TYPE_MISMATCH', column.name, measured.typeMismatch, `value(s) of "${column.name}" do not parse as ${column.type}`, column.type),
    );
    check('nulls', () => nullAnomaly(column, measured, profile.rowCount, policy));
    if (column.min !== null || column.max !== null) {
      check('range', () =>
        violationAnomaly('OUT_OF_RANGE', column.name, measured.outOfRange, `value(s) of "${column.name}" are outside its range`, rangeText(column)),
      );
    }
    if (column.categories !== null) {
      check('categories', () =>
        violationAnomaly(
          'UNKNOWN_CATEGORY',
          column.name,
          measured.unknownCategory,
          `value(s) of "${column.name}" are not among its declared categories`,
          `one of [${column.categories!.slice(0, 20).join(', ')}${column.categories!.length > 20 ? ', …' : ''}]`,
        ),
      );
    }
    const before = previousProfiles.get(column.name);
    if (previous && before && before.type === column.type) {
      check('distributionShift', () => distributionShift(column, measured, before, policy));
    }
  }

  if (previous) {
    check('rowCountChange', () => {
      const before = previous.profile.rowCount;
      const change = before === 0 ? (profile.rowCount === 0 ? 0 : Infinity) : Math.abs(profile.rowCount - before) / before;
      if (change <= policy.maxRowCountChange) return null;
      return datasetAnomaly(
        'ROW_COUNT_CHANGE',
        `the row count changed by ${formatPercent(change)} against version ${previous.versionId.slice(0, 12)} (${before} rows)`,
        `change <= ${formatPercent(policy.maxRowCountChange)}`,
        `${profile.rowCount} rows (${formatPercent(change)})`,
      );
    });
  }

  const ordered = [...anomalies.filter((a) => a.severity === 'error'), ...anomalies.filter((a) => a.severity === 'warning')];
  return {
    checksEvaluated: checks,
    errorCount: ordered.filter((a) => a.severity === 'error').length,
    warningCount: ordered.filter((a) => a.severity === 'warning').length,
    anomalies: ordered,
    comparedWithVersionId: previous?.versionId ?? null,
  };
}

/** Whether a report rejects its version. */
export function rejects(report: ValidationReport): boolean {
  return report.errorCount > 0;
}

function datasetAnomaly(kind: AnomalyKind, description: string, expected: string, observed: string): Omit<Anomaly, 'rule' | 'severity'> {
  return { kind, column: null, description, expected, observed, affectedRowCount: 0, firstRow: null, sample: null };
}

function violationAnomaly(
  kind: AnomalyKind,
  column: string,
  violations: Violations | null,
  what: string,
  expected: string,
): Omit<Anomaly, 'rule' | 'severity'> | null {
  if (!violations || violations.count === 0) return null;
  const first = violations.firstRow !== null ? `, first at row ${violations.firstRow}: ${JSON.stringify(violations.sample)}` : '';
  return {
    kind,
    column,
    description: `${violations.count} ${what}${first}`,
    expected,
    observed: `${violations.count} row(s)${violations.sample !== null ? `, e.g. ${JSON.stringify(violations.sample)}` : ''}`,
    affectedRowCount: violations.count,
    firstRow: violations.firstRow,
    sample: violations.sample,
  };
}

function nullAnomaly(column: ColumnDefinition, measured: ColumnProfile, rowCount: number, policy: ValidationPolicy): Omit<Anomaly, 'rule' | 'severity'> | null {
  if (measured.nullCount === 0 || rowCount === 0) return null;
  const rate = measured.nullCount / rowCount;
  if (!column.nullable) {
    return {
      kind: 'TOO_MANY_NULLS',
      column: column.name,
      description: `${measured.nullCount} null(s) in "${column.name}", which is not nullable`,
      expected: 'no nulls',
      observed: `${measured.nullCount} null(s) (${formatPercent(rate)})`,
      affectedRowCount: measured.nullCount,
      firstRow: null,
      sample: null,
    };
  }
  const allowed = column.maxNullRate ?? policy.maxNullRate;
  if (rate <= allowed) return null;
  return {
    kind: 'TOO_MANY_NULLS',
    column: column.name,
    description: `${formatPercent(rate)} of "${column.name}" is null, at most ${formatPercent(allowed)} is allowed`,
    expected: `null rate <= ${allowed}`,
    observed: String(round(rate)),
    affectedRowCount: measured.nullCount,
    firstRow: null,
    sample: null,
  };
}

function distributionShift(
  column: ColumnDefinition,
  current: ColumnProfile,
  reference: ColumnProfile,
  policy: ValidationPolicy,
): Omit<Anomaly, 'rule' | 'severity'> | null {
  let method: string;
  let distance: number;
  let threshold: number;
  if (isNumericType(column.type)) {
    if (!current.quantiles || !reference.quantiles) return null;
    method = policy.numericDrift.method;
    threshold = column.driftThreshold ?? policy.numericDrift.threshold;
    distance = method === 'ks' ? ksStatistic(reference.quantiles, current.quantiles) : populationStabilityIndex(reference.quantiles, current.quantiles);
  } else {
    if (!current.topCategories || !reference.topCategories || current.count === 0 || reference.count === 0) return null;
    method = policy.categoricalDrift.method;
    threshold = column.driftThreshold ?? policy.categoricalDrift.threshold;
    const ref = { top: reference.topCategories, other: reference.otherCategoriesCount };
    const cur = { top: current.topCategories, other: current.otherCategoriesCount };
    distance = method === 'js' ? jensenShannonDistance(ref, cur) : lInfinityDistance(ref, cur);
  }
  // Distances are rounded before comparing, so a threshold equal to a printed value behaves as read.
  if (round(distance) <= threshold) return null;
  const name = { psi: 'PSI', ks: 'KS statistic', linf: 'L-infinity distance', js: 'Jensen-Shannon distance' }[method] ?? method;
  return {
    kind: 'DISTRIBUTION_SHIFT',
    column: column.name,
    description: `the distribution of "${column.name}" shifted: ${name} ${round(distance)} against the previous version, above ${threshold}`,
    expected: `${method} <= ${threshold}`,
    observed: String(round(distance)),
    affectedRowCount: 0,
    firstRow: null,
    sample: null,
  };
}

function rangeText(column: ColumnDefinition): string {
  if (column.min !== null && column.max !== null) return `${String(column.min)} <= value <= ${String(column.max)}`;
  if (column.min !== null) return `value >= ${String(column.min)}`;
  return `value <= ${String(column.max)}`;
}

function round(value: number): number {
  return Number.isFinite(value) ? Math.round(value * 1e6) / 1e6 : value;
}

function formatPercent(share: number): string {
  return Number.isFinite(share) ? `${round(share * 100)}%` : 'infinitely';
}
