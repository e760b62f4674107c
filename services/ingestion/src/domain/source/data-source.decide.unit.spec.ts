import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeciderSpecification } from '@loopline/eventsourcing';
import { ConcurrencyError, NotFoundError } from '@loopline/errors';
import type { ValidationReport } from '../validation/validate-dataset';
import type { DataSourceEvent, DatasetVersionRecord } from './data-source';
import { dataSourceDecider, type CommandMeta, type RecordDatasetVersion } from './data-source.decide';
import { normalizeSourceDefinition } from './source-definition';

const spec = DeciderSpecification.for(dataSourceDecider);
const source = 'flights';
const at = '2026-01-10T12:00:00.000Z';
const metadata: CommandMeta = { actor: 'user:alice', at };
const sha = (digit: string) => digit.repeat(64);
const definition = normalizeSourceDefinition({ columns: [{ name: 'date', type: 'timestamp' }, { name: 'delay', type: 'int64' }], eventTimeColumn: 'date' });
const changedDefinition = normalizeSourceDefinition({ columns: [{ name: 'date', type: 'timestamp' }, { name: 'delay', type: 'float64' }], eventTimeColumn: 'date' });

const declared: DataSourceEvent = { type: 'SourceDeclared', data: { source, schemaVersion: 1, definition, actor: 'user:alice', declaredAt: at } };
const clean: ValidationReport = { checksEvaluated: 5, errorCount: 0, warningCount: 0, anomalies: [], comparedWithVersionId: null };
const failing: ValidationReport = {
  checksEvaluated: 5,
  errorCount: 1,
  warningCount: 0,
  anomalies: [
    { kind: 'OUT_OF_RANGE', rule: 'range', severity: 'error', column: 'delay', description: '1 value', expected: '<= 10', observed: '1 row(s)', affectedRowCount: 1, firstRow: 2, sample: '99' },
  ],
  comparedWithVersionId: null,
};

function candidate(versionId: string, report: ValidationReport, previousVersionId: string | null = null, schemaVersion = 1): Omit<DatasetVersionRecord, 'actor' | 'recordedAt'> {
  return {
    source,
    versionId,
    previousVersionId,
    schemaVersion,
    rowCount: 10,
    columns: [
      { name: 'date', type: 'timestamp', nullable: true },
      { name: 'delay', type: 'int64', nullable: true },
    ],
    eventTimeColumn: 'date',
    entityColumns: [],
    artifact: { sha256: versionId, sizeBytes: 100, uri: `artifact://ingestion/sha256/${versionId}` },
    profile: { sha256: sha('f'), sizeBytes: 10, uri: `artifact://ingestion/sha256/${sha('f')}` },
    report,
    statistics: [],
    eventTimeRange: null,
    origin: { kind: 'upload', format: 'csv', location: null, inputSha256: sha('e'), inputBytes: 50, ingestionId: 'i-1' },
  };
}
const record = (data: ReturnType<typeof candidate>): RecordDatasetVersion => ({ type: 'RecordDatasetVersion', data: { candidate: data }, metadata });
const created = (data: ReturnType<typeof candidate>): DataSourceEvent => ({ type: 'DatasetVersionCreated', data: { ...data, actor: 'user:alice', recordedAt: at } });
const rejected = (data: ReturnType<typeof candidate>): DataSourceEvent => ({ type: 'DatasetVersionRejected', data: { ...data, actor: 'user:alice', recordedAt: at } });

describe('DataSource', () => {
  describe('when declared', () => {
    it('starts at schema version 1', () => {
      spec.given([]).when({ type: 'DeclareSource', data: { source, definition }, metadata }).then([declared]);
    });
    it('changes nothing when the definition is the same', () => {
      spec.given([declared]).when({ type: 'DeclareSource', data: { source, definition }, metadata }).then([]);
    });
    it('makes a new schema version when the definition changes', () => {
      spec
        .given([declared])
        .when({ type: 'DeclareSource', data: { source, definition: changedDefinition }, metadata })
        .then([{ type: 'SourceDeclared', data: { source, schemaVersion: 2, definition: changedDefinition, actor: 'user:alice', declaredAt: at } }]);
    });
  });

  describe('when a validated dataset version is recorded', () => {
    it('creates it when the report has no error', () => {
      spec.given([declared]).when(record(candidate(sha('a'), clean))).then([created(candidate(sha('a'), clean))]);
    });
    it('rejects it when the report has an error', () => {
      spec.given([declared]).when(record(candidate(sha('a'), failing))).then([rejected(candidate(sha('a'), failing))]);
    });
    it('records nothing for data that is an accepted version already (same id)', () => {
      spec.given([declared, created(candidate(sha('a'), clean))]).when(record(candidate(sha('a'), clean, sha('a')))).then([]);
    });
    it('records nothing for rejected data rejected again', () => {
      spec.given([declared, rejected(candidate(sha('a'), failing))]).when(record(candidate(sha('a'), failing))).then([]);
    });
    it('accepts data rejected before once it passes (after a policy change)', () => {
      spec.given([declared, rejected(candidate(sha('a'), failing))]).when(record(candidate(sha('a'), clean))).then([created(candidate(sha('a'), clean))]);
    });
    it('refuses a candidate compared with a version that is no longer the latest', () => {
      spec
        .given([declared, created(candidate(sha('a'), clean))])
        .when(record(candidate(sha('b'), clean, null)))
        .thenThrows(ConcurrencyError);
    });
    it('refuses a candidate validated against an older schema version', () => {
      spec.given([declared]).when(record(candidate(sha('a'), clean, null, 0))).thenThrows(ConcurrencyError);
    });
    it('refuses a candidate for an unknown source', () => {
      spec.given([]).when(record(candidate(sha('a'), clean))).thenThrows(NotFoundError);
    });
  });

  describe('when fed from a stream', () => {
    const stream = { topic: 'flights.rows', maxRows: 100, maxIntervalMs: 30_000 };
    const configured: DataSourceEvent = { type: 'SourceStreamConfigured', data: { source, stream, actor: 'user:alice', configuredAt: at } };
    it('records the settings once; the same settings again change nothing', () => {
      spec.given([declared]).when({ type: 'ConfigureStream', data: { source, stream }, metadata }).then([configured]);
      spec.given([declared, configured]).when({ type: 'ConfigureStream', data: { source, stream }, metadata }).then([]);
    });
    it('stops only a configured stream, and only on a declared source', () => {
      spec.given([declared, configured]).when({ type: 'StopStream', data: { source }, metadata }).then([
        { type: 'SourceStreamStopped', data: { source, topic: 'flights.rows', actor: 'user:alice', stoppedAt: at } },
      ]);
      spec.given([declared]).when({ type: 'StopStream', data: { source }, metadata }).thenThrows(NotFoundError);
      spec.given([]).when({ type: 'ConfigureStream', data: { source, stream }, metadata }).thenThrows(NotFoundError);
    });
    it('folds the offsets of stream batches, accepted or rejected, into the next offset per partition', () => {
      const batch = (versionId: string, report: ValidationReport, offsets: { partition: number; from: string; to: string }[]) => ({
        ...candidate(versionId, report),
        origin: { kind: 'stream' as const, format: 'jsonl' as const, location: 'flights.rows', inputSha256: sha('e'), inputBytes: 50, ingestionId: 'i-2', offsets },
      });
      const state = [declared, configured, created(batch(sha('a'), clean, [{ partition: 0, from: '0', to: '9' }, { partition: 1, from: '0', to: '4' }])), rejected(batch(sha('b'), failing, [{ partition: 0, from: '10', to: '19' }]))].reduce(
        dataSourceDecider.evolve,
        dataSourceDecider.initialState(),
      );
      assert.deepEqual(state.streamOffsets, { 'flights.rows:0': '20', 'flights.rows:1': '5' });
    });
  });
});

