import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '@loopline/errors';
import { assertSourceName, canonicalSortColumns, normalizeSourceDefinition, sameDefinition } from './source-definition';

const columns = [
  { name: 'date', type: 'timestamp', nullable: false },
  { name: 'delay', type: 'int64', min: -1440, max: 1440 },
  { name: 'origin', type: 'string', categories: ['ORD', 'ATL', 'ORD'] },
];

function refusal(input: Parameters<typeof normalizeSourceDefinition>[0]): ValidationError {
  try {
    normalizeSourceDefinition(input);
  } catch (error) {
    assert.ok(error instanceof ValidationError, String(error));
    return error;
  }
  assert.fail('the definition was accepted');
}

describe('SourceDefinition', () => {
  describe('when normalized', () => {
    it('fills defaults: nullable, policy severities and thresholds', () => {
      const definition = normalizeSourceDefinition({ columns });
      assert.equal(definition.columns[1]!.nullable, true);
      assert.deepEqual(definition.policy.rules, {
        typeMismatch: 'error',
        nulls: 'error',
        range: 'error',
        categories: 'warning',
        emptyDataset: 'error',
        unexpectedColumns: 'warning',
        rowCountChange: 'warning',
        distributionShift: 'warning',
      });
      assert.deepEqual(definition.policy.numericDrift, { method: 'psi', threshold: 0.2 });
      assert.deepEqual(definition.policy.categoricalDrift, { method: 'linf', threshold: 0.1 });
      assert.equal(definition.policy.maxNullRate, 1);
    });

    it('sorts and deduplicates categories, and canonicalizes timestamp bounds', () => {
      const definition = normalizeSourceDefinition({
        columns: [{ name: 'origin', type: 'string', categories: ['ORD', 'ATL', 'ORD'] }, { name: 'at', type: 'timestamp', min: '2001-01-01T01:00:00+01:00' }],
      });
      assert.deepEqual(definition.columns[0]!.categories, ['ATL', 'ORD']);
      assert.equal(definition.columns[1]!.min, '2001-01-01T00:00:00.000Z');
    });

    it('treats the same definition written differently as the same', () => {
      const a = normalizeSourceDefinition({ columns, policy: { rules: { categories: 'warning' } } });
      const b = normalizeSourceDefinition({ columns: columns.map((column) => ({ ...column })), policy: {} });
      assert.ok(sameDefinition(a, b));
      assert.ok(!sameDefinition(a, normalizeSourceDefinition({ columns, policy: { rules: { categories: 'error' } } })));
    });

    it('stores rows by event time, entity keys, then the other columns', () => {
      const definition = normalizeSourceDefinition({ columns, eventTimeColumn: 'date', entityColumns: ['origin'] });
      assert.deepEqual(canonicalSortColumns(definition), ['date', 'origin', 'delay']);
    });
  });

  describe('when a rule is broken', () => {
    const cases: [string, Parameters<typeof normalizeSourceDefinition>[0], RegExp][] = [
      ['no columns', { columns: [] }, /at least one column/],
      ['a duplicate column', { columns: [columns[0]!, columns[0]!] }, /declared twice/],
      ['an unknown type', { columns: [{ name: 'a', type: 'decimal' }] }, /unknown type "decimal"/],
      ['a reserved name', { columns: [{ name: '__row', type: 'int64' }] }, /not a valid column name/],
      ['an unsafe name', { columns: [{ name: 'a b', type: 'int64' }] }, /not a valid column name/],
      ['min above max', { columns: [{ name: 'a', type: 'int64', min: 5, max: 1 }] }, /min 5 is greater than max 1/],
      ['a range on a string', { columns: [{ name: 'a', type: 'string', min: 1 }] }, /applies to int64, float64, timestamp and date/],
      ['categories on a number', { columns: [{ name: 'a', type: 'int64', categories: ['1'] }] }, /categories apply to string columns only/],
      ['a zoneless timestamp bound', { columns: [{ name: 'a', type: 'timestamp', min: '2001-01-01 00:00:00' }] }, /ISO-8601 timestamp with a zone/],
      ['an impossible date bound', { columns: [{ name: 'a', type: 'date', max: '2001-02-30' }] }, /a date YYYY-MM-DD/],
      ['an undeclared event-time column', { columns, eventTimeColumn: 'when' }, /event-time column "when" is not a declared column/],
      ['a numeric event-time column', { columns, eventTimeColumn: 'delay' }, /must be of type timestamp or date/],
      ['an undeclared entity column', { columns, entityColumns: ['carrier'] }, /entity column "carrier" is not a declared column/],
      ['an unknown rule', { columns, policy: { rules: { freshness: 'error' } } }, /unknown policy rule "freshness"/],
      ['an unknown severity', { columns, policy: { rules: { nulls: 'fatal' } } }, /severity "fatal"/],
      ['a null rate above 1', { columns, policy: { maxNullRate: 2 } }, /from 0 to 1/],
      ['an unknown drift method', { columns, policy: { numericDrift: { method: 'wasserstein' } } }, /numeric drift method "wasserstein"/],
    ];
    for (const [what, input, message] of cases) {
      it(`refuses ${what}`, () => assert.match(refusal(input).message, message));
    }
  });

  it('accepts source names of letters, digits, "_" and "-" only', () => {
    assertSourceName('flights_2001-a');
    assert.throws(() => assertSourceName('../etc'), ValidationError);
    assert.throws(() => assertSourceName('a'.repeat(65)), ValidationError);
  });
});
