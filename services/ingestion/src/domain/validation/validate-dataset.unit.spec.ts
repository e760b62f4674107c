import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeSourceDefinition, type PolicyInput } from '../source/source-definition';
import { noViolations, type ColumnProfile, type DatasetProfile } from './profile';
import { validateDataset } from './validate-dataset';

const uniformQuantiles = (from: number, to: number) => Array.from({ length: 101 }, (_, i) => from + ((to - from) * i) / 100);

function definition(policy: PolicyInput = {}) {
  return normalizeSourceDefinition({
    columns: [
      { name: 'delay', type: 'int64', nullable: true, min: -100, max: 100, maxNullRate: 0.1 },
      { name: 'distance', type: 'int64', nullable: false },
      { name: 'origin', type: 'string', nullable: false, categories: ['ATL', 'ORD'] },
    ],
    policy,
  });
}

function column(name: string, type: ColumnProfile['type'], overrides: Partial<ColumnProfile> = {}): ColumnProfile {
  return {
    name,
    type,
    count: 100,
    nullCount: 0,
    typeMismatch: noViolations,
    outOfRange: type === 'int64' ? noViolations : null,
    unknownCategory: type === 'string' ? noViolations : null,
    min: null,
    max: null,
    mean: null,
    distinctCount: 10,
    quantiles: type === 'int64' ? uniformQuantiles(0, 50) : null,
    topCategories: type === 'string' ? [{ value: 'ATL', count: 50 }, { value: 'ORD', count: 50 }] : null,
    otherCategoriesCount: 0,
    ...overrides,
  };
}

function profile(overrides: { rowCount?: number; unexpectedColumns?: string[]; columns?: Record<string, Partial<ColumnProfile>> } = {}): DatasetProfile {
  return {
    rowCount: overrides.rowCount ?? 100,
    unexpectedColumns: overrides.unexpectedColumns ?? [],
    eventTimeRange: null,
    columns: [
      column('delay', 'int64', overrides.columns?.delay),
      column('distance', 'int64', { outOfRange: null, ...overrides.columns?.distance }),
      column('origin', 'string', overrides.columns?.origin),
    ],
  };
}

const previous = { versionId: 'a'.repeat(64), profile: profile() };

describe('validateDataset', () => {
  it('finds nothing in data that matches schema and previous version', () => {
    const report = validateDataset(definition(), profile(), previous);
    assert.deepEqual([report.errorCount, report.warningCount, report.anomalies], [0, 0, []]);
    assert.equal(report.comparedWithVersionId, previous.versionId);
    // empty + 3 types + 3 nulls + 1 range + 1 categories + 3 distributions + row count
    assert.equal(report.checksEvaluated, 13);
  });

  const violations = { count: 2, firstRow: 7, sample: 'x' };
  const rules: [string, Parameters<typeof profile>[0], string, string | null][] = [
    ['typeMismatch', { columns: { delay: { typeMismatch: violations } } }, 'TYPE_MISMATCH', 'delay'],
    ['nulls', { columns: { distance: { nullCount: 1 } } }, 'TOO_MANY_NULLS', 'distance'],
    ['nulls', { columns: { delay: { nullCount: 20 } } }, 'TOO_MANY_NULLS', 'delay'],
    ['range', { columns: { delay: { outOfRange: violations } } }, 'OUT_OF_RANGE', 'delay'],
    ['categories', { columns: { origin: { unknownCategory: violations } } }, 'UNKNOWN_CATEGORY', 'origin'],
    ['emptyDataset', { rowCount: 0 }, 'EMPTY', null],
    ['unexpectedColumns', { unexpectedColumns: ['tail'] }, 'UNEXPECTED_COLUMN', 'tail'],
    ['rowCountChange', { rowCount: 300 }, 'ROW_COUNT_CHANGE', null],
    ['distributionShift', { columns: { delay: { quantiles: uniformQuantiles(40, 90) } } }, 'DISTRIBUTION_SHIFT', 'delay'],
    ['distributionShift', { columns: { origin: { topCategories: [{ value: 'ATL', count: 90 }, { value: 'ORD', count: 10 }] } } }, 'DISTRIBUTION_SHIFT', 'origin'],
  ];
  for (const [rule, change, kind, columnName] of rules) {
    for (const severity of ['error', 'warning', 'off'] as const) {
      it(`${rule} (${kind} on ${columnName ?? 'the dataset'}) is ${severity === 'off' ? 'not checked' : `an ${severity}`} when the policy says ${severity}`, () => {
        const report = validateDataset(definition({ rules: { [rule]: severity } }), profile(change), previous);
        const found = report.anomalies.filter((anomaly) => anomaly.kind === kind && anomaly.column === columnName);
        if (severity === 'off') return assert.deepEqual(found, []);
        assert.equal(found.length, 1, JSON.stringify(report.anomalies));
        assert.deepEqual([found[0]!.rule, found[0]!.severity], [rule, severity]);
        assert.equal(severity === 'error' ? report.errorCount : report.warningCount, report.anomalies.filter((a) => a.severity === severity).length);
        if (found[0]!.firstRow !== null) assert.match(found[0]!.description, /first at row 7: "x"/);
      });
    }
  }

  it('names the first offending row and value of a type mismatch', () => {
    const report = validateDataset(definition(), profile({ columns: { delay: { typeMismatch: { count: 3, firstRow: 17, sample: 'abc' } } } }), null);
    assert.deepEqual(report.anomalies[0], {
      kind: 'TYPE_MISMATCH',
      rule: 'typeMismatch',
      severity: 'error',
      column: 'delay',
      description: '3 value(s) of "delay" do not parse as int64, first at row 17: "abc"',
      expected: 'int64',
      observed: '3 row(s), e.g. "abc"',
      affectedRowCount: 3,
      firstRow: 17,
      sample: 'abc',
    });
  });

  it('lists errors before warnings', () => {
    const report = validateDataset(definition({ rules: { unexpectedColumns: 'warning' } }), profile({ unexpectedColumns: ['tail'], columns: { delay: { typeMismatch: violations } } }), null);
    assert.deepEqual(report.anomalies.map((anomaly) => anomaly.severity), ['error', 'warning']);
  });

  it('compares nothing with a previous version when there is none (first version)', () => {
    const report = validateDataset(definition({ rules: { rowCountChange: 'error', distributionShift: 'error' } }), profile({ rowCount: 5000 }), null);
    assert.equal(report.errorCount, 0);
    assert.equal(report.comparedWithVersionId, null);
  });

  it('uses KS when the policy asks, with a column threshold overriding the policy', () => {
    const shifted = profile({ columns: { delay: { quantiles: uniformQuantiles(10, 60) } } });
    const strict = validateDataset(definition({ numericDrift: { method: 'ks', threshold: 0.1 } }), shifted, previous);
    assert.equal(strict.anomalies.filter((a) => a.kind === 'DISTRIBUTION_SHIFT').length, 1);
    assert.match(strict.anomalies[0]!.description, /KS statistic 0\.2/);
    const lenient = normalizeSourceDefinition({
      columns: [{ name: 'delay', type: 'int64', driftThreshold: 0.5 }, { name: 'distance', type: 'int64' }, { name: 'origin', type: 'string' }],
      policy: { numericDrift: { method: 'ks', threshold: 0.1 } },
    });
    assert.equal(validateDataset(lenient, shifted, previous).anomalies.filter((a) => a.kind === 'DISTRIBUTION_SHIFT').length, 0);
  });
});
