/**
 * Each validation rule, through REST, under each severity its policy can give it: `error` rejects
 * the version (status REJECTED, a DatasetVersionRejected event, the candidate kept for
 * inspection), `warning` accepts it with the anomaly reported, `off` does not check. Every
 * report names the column (when there is one) and the rule. Real: everything.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, eventually, freePort, testInfra, uniqueName } from '@loopline/testing';
import { DatasetVersionEvents, rest, startIngestion, upload, type IngestionUnderTest } from './ingestion-harness';

interface Anomaly {
  kind: string;
  rule: string;
  severity: string;
  column: string | null;
  firstRow: number | null;
  sample: string | null;
  description: string;
}

const header = 'date,delay,distance,origin,destination';

/** `n` rows; `row(i)` may replace any field. */
function flightsCsv(n: number, row: (i: number) => Partial<Record<'date' | 'delay' | 'distance' | 'origin' | 'destination' | 'tail', string>> = () => ({}), extraColumn = false): string {
  const airports = ['ATL', 'ORD', 'DFW', 'LAX'];
  const lines = Array.from({ length: n }, (_, i) => {
    const fields = {
      date: `2001-02-${String(1 + (i % 28)).padStart(2, '0')} ${String(i % 24).padStart(2, '0')}:00:00`,
      delay: String((i * 7) % 40 - 10),
      distance: String(300 + ((i * 53) % 1500)),
      origin: airports[i % 4]!,
      destination: airports[(i + 2) % 4]!,
      tail: `N${i}`,
      ...row(i),
    };
    return [fields.date, fields.delay, fields.distance, fields.origin, fields.destination, ...(extraColumn ? [fields.tail] : [])].join(',');
  });
  return `${header}${extraColumn ? ',tail' : ''}\n${lines.join('\n')}${n > 0 ? '\n' : ''}`;
}

function schema(rule: string, severity: string, columns: Record<string, Record<string, unknown>> = {}, policy: Record<string, unknown> = {}) {
  return {
    columns: [
      { name: 'date', type: 'timestamp', nullable: false },
      { name: 'delay', type: 'int64', nullable: true, min: -1440, max: 1440 },
      { name: 'distance', type: 'int64', nullable: false },
      { name: 'origin', type: 'string', nullable: false },
      { name: 'destination', type: 'string', nullable: false },
    ].map((column) => ({ ...column, ...(columns[column.name] ?? {}) })),
    eventTimeColumn: 'date',
    entityColumns: ['origin'],
    policy: { ...policy, rules: { [rule]: severity } },
  };
}

interface RuleCase {
  readonly rule: string;
  readonly what: string;
  readonly columns?: Record<string, Record<string, unknown>>;
  readonly policy?: Record<string, unknown>;
  /** Accepted first, to compare with. */
  readonly baseline?: string;
  readonly candidate: string;
  readonly expected: { kind: string; column: string | null; firstRow?: number; sample?: string };
}

const cases: readonly RuleCase[] = [
  { rule: 'typeMismatch', what: 'a delay that is not an int64', candidate: flightsCsv(20, (i) => (i === 2 ? { delay: 'abc' } : {})), expected: { kind: 'TYPE_MISMATCH', column: 'delay', firstRow: 3, sample: 'abc' } },
  { rule: 'nulls', what: 'a null in a non-nullable column', candidate: flightsCsv(20, (i) => (i === 1 ? { distance: '' } : {})), expected: { kind: 'TOO_MANY_NULLS', column: 'distance' } },
  {
    rule: 'nulls',
    what: 'a null share above the allowed rate',
    columns: { delay: { maxNullRate: 0.2 } },
    candidate: flightsCsv(20, (i) => (i % 2 === 0 ? { delay: '' } : {})),
    expected: { kind: 'TOO_MANY_NULLS', column: 'delay' },
  },
  { rule: 'range', what: 'a delay above its max', candidate: flightsCsv(20, (i) => (i === 3 ? { delay: '5000' } : {})), expected: { kind: 'OUT_OF_RANGE', column: 'delay', firstRow: 4, sample: '5000' } },
  {
    rule: 'categories',
    what: 'an origin outside its categories',
    columns: { origin: { categories: ['ATL', 'ORD', 'DFW', 'LAX'] } },
    candidate: flightsCsv(20, (i) => (i === 5 ? { origin: 'XXX' } : {})),
    expected: { kind: 'UNKNOWN_CATEGORY', column: 'origin', firstRow: 6, sample: 'XXX' },
  },
  { rule: 'emptyDataset', what: 'a file with no rows', candidate: flightsCsv(0), expected: { kind: 'EMPTY', column: null } },
  { rule: 'unexpectedColumns', what: 'a column the schema does not declare', candidate: flightsCsv(20, () => ({}), true), expected: { kind: 'UNEXPECTED_COLUMN', column: 'tail' } },
  { rule: 'rowCountChange', what: 'three times the rows of the previous version', baseline: flightsCsv(20), candidate: flightsCsv(60), expected: { kind: 'ROW_COUNT_CHANGE', column: null } },
  {
    rule: 'distributionShift',
    what: 'delays far from the previous version’s (PSI)',
    baseline: flightsCsv(200),
    candidate: flightsCsv(200, (i) => ({ delay: String(500 + i) })),
    expected: { kind: 'DISTRIBUTION_SHIFT', column: 'delay' },
  },
  {
    rule: 'distributionShift',
    what: 'origins far from the previous version’s (L-infinity)',
    baseline: flightsCsv(200),
    candidate: flightsCsv(200, () => ({ origin: 'ATL' })),
    expected: { kind: 'DISTRIBUTION_SHIFT', column: 'origin' },
  },
  {
    rule: 'distributionShift',
    what: 'delays shifted by KS, with a per-column threshold',
    columns: { delay: { driftThreshold: 0.3 } },
    policy: { numericDrift: { method: 'ks' } },
    baseline: flightsCsv(200),
    candidate: flightsCsv(200, (i) => ({ delay: String(((i * 7) % 40) + 5) })),
    expected: { kind: 'DISTRIBUTION_SHIFT', column: 'delay' },
  },
];

describe('validation policy', () => {
  let ingestion: IngestionUnderTest;
  const events = new DatasetVersionEvents();
  const sources: string[] = [];
  const rejected: { source: string; versionId: string; kind: string }[] = [];

  before(async () => {
    const infra = testInfra();
    ingestion = await startIngestion({
      postgresUrl: await createTestDatabase('ingestion_policy'),
      kafkaBrokers: infra.kafkaBrokers,
      dataDir: join(infra.dataDir, uniqueName('ingestion_policy')),
      grpcPort: await freePort(),
    });
    await events.start({ kafkaBrokers: infra.kafkaBrokers, groupId: uniqueName('ingestion_policy'), sources: () => sources });
  });

  after(async () => {
    await events.stop();
    await ingestion?.stop();
  });

  async function ingest(testCase: RuleCase, severity: string) {
    const source = uniqueName(`${testCase.rule}-${severity}`).replace(/_/g, '-').slice(0, 64);
    sources.push(source);
    const declared = await rest(ingestion.baseUrl, 'PUT', `/v1/sources/${source}`, schema(testCase.rule, severity, testCase.columns, testCase.policy));
    assert.equal(declared.status, 201, JSON.stringify(declared.body));
    if (testCase.baseline !== undefined) {
      const baseline = await upload(ingestion.baseUrl, source, testCase.baseline, 'csv');
      assert.equal(baseline.body.status, 'CREATED', JSON.stringify(baseline.body));
    }
    const response = await upload(ingestion.baseUrl, source, testCase.candidate, 'csv');
    assert.equal(response.status, 201, JSON.stringify(response.body));
    const anomalies = (response.body.report as { anomalies: Anomaly[] }).anomalies;
    return { source, response, anomalies, found: anomalies.filter((anomaly) => anomaly.kind === testCase.expected.kind && anomaly.column === testCase.expected.column) };
  }

  for (const testCase of cases) {
    describe(`rule ${testCase.rule}: ${testCase.what}`, () => {
      it('rejects the version when the policy says error, naming column and rule', async () => {
        const { source, response, found } = await ingest(testCase, 'error');
        assert.equal(response.body.status, 'REJECTED', JSON.stringify(response.body.report));
        assert.equal(found.length, 1, JSON.stringify(response.body.report));
        const [anomaly] = found;
        assert.deepEqual([anomaly!.rule, anomaly!.severity], [testCase.rule, 'error']);
        if (testCase.expected.firstRow !== undefined) assert.equal(anomaly!.firstRow, testCase.expected.firstRow);
        if (testCase.expected.sample !== undefined) assert.equal(anomaly!.sample, testCase.expected.sample);
        if (testCase.expected.column) assert.match(anomaly!.description, new RegExp(`"${testCase.expected.column}"`));
        // Kept for inspection, listed as rejected; the latest accepted version did not move.
        const versionId = String(response.body.versionId);
        const version = await rest(ingestion.baseUrl, 'GET', `/v1/sources/${source}/versions/${versionId}`);
        assert.equal(version.body.status, 'REJECTED');
        const sourceView = await rest(ingestion.baseUrl, 'GET', `/v1/sources/${source}`);
        assert.notEqual(sourceView.body.latestVersionId, versionId);
        rejected.push({ source, versionId, kind: testCase.expected.kind });
      });

      it('accepts the version with the anomaly reported when the policy says warning', async () => {
        const { response, found } = await ingest(testCase, 'warning');
        assert.equal(response.body.status, 'CREATED', JSON.stringify(response.body.report));
        assert.equal(found.length, 1, JSON.stringify(response.body.report));
        assert.deepEqual([found[0]!.rule, found[0]!.severity], [testCase.rule, 'warning']);
      });
    });
  }

  it('does not check a rule the policy turns off', async () => {
    const { response, anomalies } = await ingest(cases[0]!, 'off');
    assert.equal(response.body.status, 'CREATED');
    assert.deepEqual(anomalies.filter((anomaly) => anomaly.rule === 'typeMismatch'), []);
  });

  it('publishes DatasetVersionRejected for every rejection, with the anomaly', async () => {
    await eventually(() => rejected.every(({ source }) => events.of(source).some((event) => event.type === 'loopline.ingestion.v1.DatasetVersionRejected')), {
      timeoutMs: 30_000,
      what: 'a DatasetVersionRejected event per rejected version',
    });
    for (const { source, versionId, kind } of rejected) {
      const event = events.of(source).find((candidate) => candidate.type === 'loopline.ingestion.v1.DatasetVersionRejected')!;
      const message = event.message as unknown as { datasetVersionId: string; validation: { errorCount: number; anomalies: { kind: number }[] } };
      assert.equal(message.datasetVersionId, versionId);
      assert.ok(message.validation.errorCount >= 1);
      assert.ok(message.validation.anomalies.length >= 1, `${kind}: anomalies listed`);
    }
  });
});
