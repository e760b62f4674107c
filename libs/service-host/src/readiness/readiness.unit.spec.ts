import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aggregateReadiness, describeError, notConfiguredCheck, readinessBody, runReadinessChecks, type ReadinessCheck } from './readiness';

const answering = (name: string, detail?: string): ReadinessCheck => ({ name, probe: async () => detail });
const failing = (name: string, message: string): ReadinessCheck => ({
  name,
  probe: async () => {
    throw new Error(message);
  },
});
const hanging = (name: string): ReadinessCheck => ({ name, probe: () => new Promise(() => undefined) });

describe('readiness', () => {
  describe('aggregateReadiness', () => {
    it('is ready when every check passed', () => {
      const report = aggregateReadiness([
        { name: 'postgres', ok: true, detail: 'ok' },
        { name: 'kafka', ok: true, detail: 'ok' },
      ]);
      assert.equal(report.ready, true);
      assert.deepEqual(readinessBody(report).status, 'ready');
    });

    it('is not ready when any check failed, and keeps every result', () => {
      const results = [
        { name: 'postgres', ok: true, detail: 'ok' },
        { name: 'kafka', ok: false, detail: 'connection refused' },
      ];
      const report = aggregateReadiness(results);
      assert.equal(report.ready, false);
      assert.deepEqual(readinessBody(report), { status: 'not_ready', checks: results });
    });

    it('is ready for a service without dependencies', () => {
      assert.equal(aggregateReadiness([]).ready, true);
    });
  });

  describe('runReadinessChecks', () => {
    it('reports each check by name with the detail it answered, in declaration order', async () => {
      const report = await runReadinessChecks([answering('postgres', 'SELECT 1 answered'), answering('kafka')], { timeoutMs: 1_000 });
      assert.deepEqual(report, {
        ready: true,
        checks: [
          { name: 'postgres', ok: true, detail: 'SELECT 1 answered' },
          { name: 'kafka', ok: true, detail: 'ok' },
        ],
      });
    });

    it('turns a thrown error into a failed check carrying its message', async () => {
      const report = await runReadinessChecks([answering('postgres'), failing('kafka', 'connect ECONNREFUSED 127.0.0.1:9092')], { timeoutMs: 1_000 });
      assert.equal(report.ready, false);
      assert.deepEqual(report.checks[1], { name: 'kafka', ok: false, detail: 'connect ECONNREFUSED 127.0.0.1:9092' });
    });

    it('fails a check that does not answer in time instead of waiting for it', async () => {
      const started = Date.now();
      const report = await runReadinessChecks([hanging('clickhouse'), answering('postgres')], { timeoutMs: 50 });
      assert.ok(Date.now() - started < 1_000);
      assert.deepEqual(report.checks[0], { name: 'clickhouse', ok: false, detail: 'no answer within 50 ms' });
      assert.equal(report.checks[1]?.ok, true);
    });

    it('names the missing environment key of a dependency that is not configured', async () => {
      const report = await runReadinessChecks([notConfiguredCheck('postgres', 'LOOPLINE_POSTGRES_URL')], { timeoutMs: 1_000 });
      assert.deepEqual(report.checks, [{ name: 'postgres', ok: false, detail: 'LOOPLINE_POSTGRES_URL is not configured' }]);
    });
  });

  describe('describeError', () => {
    it('lists the distinct causes of an AggregateError (dual-stack connection failures)', () => {
      const error = new AggregateError([new Error('connect ECONNREFUSED ::1:5432'), new Error('connect ECONNREFUSED 127.0.0.1:5432')], '');
      assert.equal(describeError(error), 'connect ECONNREFUSED ::1:5432; connect ECONNREFUSED 127.0.0.1:5432');
    });
  });
});
