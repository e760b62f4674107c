/**
 * Ingestion as a pipeline task executor: RunTask commands (`ingest`, `validate`) on
 * `loopline.orchestration.task-commands.v1`, answered with TaskCompleted / TaskFailed on
 * `loopline.orchestration.task-results.v1`. A command delivered again is answered again with the
 * recorded result and makes no second version; bad inputs are answered with TaskFailed naming the
 * problem. Real: the ingestion service (in-process), PostgreSQL, Kafka, chDB. Orchestration is
 * stood in for by this spec, which sends the commands it would send.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { Kafka, logLevel } from 'kafkajs';
import { RunTaskSchema, StepKind, TaskCompletedSchema, TaskFailedSchema, type DecodedEvent } from '@loopline/contracts';
import { contractMessage, createEventProducer, type EventProducer } from '@loopline/messaging';
import { createLogger } from '@loopline/telemetry';
import { createTestDatabase, eventually, freePort, testInfra, uniqueName } from '@loopline/testing';
import { rest, startIngestion, TaskResults, taskCommandsTopic, type IngestionUnderTest } from './ingestion-harness';

const sourceName = (label: string) => uniqueName(label).replace(/_/g, '-').slice(0, 64);

interface Completed {
  readonly idempotencyKey: string;
  readonly executor: string;
  readonly outputs: Record<string, unknown>;
  readonly logsTail: string;
}
interface Failed {
  readonly error: { readonly code: string; readonly message: string; readonly retryable: boolean };
}

function schema(extra: Record<string, unknown> = {}) {
  return {
    columns: [
      { name: 'date', type: 'timestamp', nullable: false },
      { name: 'delay', type: 'int64', nullable: true, min: -1440, max: 1440 },
      { name: 'origin', type: 'string', nullable: false, categories: ['ATL', 'ORD', 'DFW', 'LAX'] },
    ],
    eventTimeColumn: 'date',
    entityColumns: ['origin'],
    ...extra,
  };
}

function flightsCsv(n: number, origin: (i: number) => string = (i) => ['ATL', 'ORD', 'DFW', 'LAX'][i % 4]!): string {
  const rows = Array.from({ length: n }, (_, i) => `2001-01-${String(1 + (i % 20)).padStart(2, '0')} ${String(i % 24).padStart(2, '0')}:00:00,${(i * 7) % 40 - 10},${origin(i)}`);
  return `date,delay,origin\n${rows.join('\n')}\n`;
}

describe('ingestion as a pipeline task executor', () => {
  let ingestion: IngestionUnderTest;
  let producer: EventProducer;
  const results = new TaskResults();
  const pipelineName = uniqueName('ingest_pipeline');
  const importRoot = join(testInfra().dataDir, uniqueName('task_imports'));

  before(async () => {
    mkdirSync(importRoot, { recursive: true });
    const infra = testInfra();
    ingestion = await startIngestion({
      postgresUrl: await createTestDatabase('ingestion_tasks'),
      kafkaBrokers: infra.kafkaBrokers,
      dataDir: join(infra.dataDir, uniqueName('ingestion_tasks')),
      grpcPort: await freePort(),
      env: {
        LOOPLINE_INGESTION_IMPORT_ROOTS: importRoot,
        LOOPLINE_INGESTION_TASKS: 'true',
        LOOPLINE_INGESTION_TASK_CONSUMER_GROUP: uniqueName('ingestion_tasks'),
        LOOPLINE_INGESTION_TASK_PIPELINES: pipelineName,
      },
    });
    // The executor provisions the command and result topics when it starts.
    await results.start({ kafkaBrokers: infra.kafkaBrokers, groupId: uniqueName('ingestion_task_results') });
    const kafka = new Kafka({ clientId: 'ingestion-tasks-e2e', brokers: [...infra.kafkaBrokers], logLevel: logLevel.NOTHING });
    producer = createEventProducer(kafka, { logger: createLogger({ service: 'ingestion-tasks-e2e', level: 'warn' }) });
  });

  after(async () => {
    await producer?.disconnect();
    await results.stop();
    await ingestion?.stop();
  });

  async function send(runId: string, stepKind: StepKind, params: Record<string, unknown>, idempotencyKey = `${runId}/${stepKind}/1`): Promise<string> {
    const message = create(RunTaskSchema, { runId, taskId: StepKind[stepKind].toLowerCase(), stepKind, idempotencyKey, params: params as never, attempt: 1, pipelineName });
    await producer.publish([contractMessage({ topic: taskCommandsTopic, key: runId, id: randomUUID(), source: '/loopline/tests', time: new Date(), message })]);
    return idempotencyKey;
  }

  async function answer(runId: string, count = 1, timeoutMs = 60_000): Promise<DecodedEvent> {
    await eventually(() => results.of(runId).length >= count, { timeoutMs, what: `answer ${count} of run ${runId}` });
    return results.of(runId)[count - 1]!;
  }

  const completed = (event: DecodedEvent) => {
    assert.equal(event.type, TaskCompletedSchema.typeName, `expected TaskCompleted, got ${event.type}: ${JSON.stringify(event.message, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value))}`);
    return event.message as unknown as Completed;
  };
  const failed = (event: DecodedEvent) => {
    assert.equal(event.type, TaskFailedSchema.typeName, `expected TaskFailed, got ${event.type}`);
    return (event.message as unknown as Failed).error;
  };

  async function declare(label: string, extra: Record<string, unknown> = {}): Promise<string> {
    const name = sourceName(label);
    const response = await rest(ingestion.baseUrl, 'PUT', `/v1/sources/${name}`, schema(extra));
    assert.equal(response.status, 201, JSON.stringify(response.body));
    return name;
  }

  function landing(name: string, content: string): string {
    const path = join(importRoot, name);
    writeFileSync(path, content);
    return path;
  }

  it('ingests a file on RunTask and answers TaskCompleted with the version; a redelivered command gets the same answer and makes no second version', async () => {
    const source = await declare('task_flights');
    const path = landing(`${source}.csv`, flightsCsv(120));
    const runId = randomUUID();
    const key = await send(runId, StepKind.INGEST_DATASET, { sourceName: source, uri: path });
    const first = completed(await answer(runId));
    assert.equal(first.executor, 'ingestion');
    assert.equal(first.idempotencyKey, key);
    assert.match(String(first.outputs.datasetVersionId), /^[0-9a-f]{64}$/);
    assert.deepEqual([first.outputs.rowCount, first.outputs.created], [120, true]);
    assert.match(first.logsTail, /CREATED: dataset version/);

    // Redelivered (orchestration re-sends an overdue command, Kafka redelivers): the recorded answer again.
    await send(runId, StepKind.INGEST_DATASET, { sourceName: source, uri: path }, key);
    const again = completed(await answer(runId, 2));
    assert.deepEqual(again.outputs, first.outputs);
    const versions = await rest<{ versions: { versionId: string; origin: { kind: string; location: string } }[] }>(ingestion.baseUrl, 'GET', `/v1/sources/${source}/versions`);
    assert.equal(versions.body.versions.length, 1, 'one version');
    assert.deepEqual([versions.body.versions[0]!.versionId, versions.body.versions[0]!.origin.location], [first.outputs.datasetVersionId, path]);

    // A new task (new key) on the same data: the same, content-addressed version, not created again.
    const rerun = randomUUID();
    await send(rerun, StepKind.INGEST_DATASET, { sourceName: source, uri: `file://${path}`, format: 'csv' });
    const same = completed(await answer(rerun));
    assert.deepEqual(same.outputs, { ...first.outputs, created: false });
  });

  it("imports from the source's defaultUri when the step gives no uri (or an empty one), and fails clearly when there is none", async () => {
    const path = join(importRoot, `${uniqueName('default')}.csv`);
    const withDefault = await declare('task_default', { defaultUri: path });
    writeFileSync(path, flightsCsv(40));
    const runId = randomUUID();
    await send(runId, StepKind.INGEST_DATASET, { sourceName: withDefault, uri: '' });
    const outputs = completed(await answer(runId)).outputs;
    assert.deepEqual([outputs.rowCount, outputs.created], [40, true]);
    const source = await rest<{ defaultUri: string }>(ingestion.baseUrl, 'GET', `/v1/sources/${withDefault}`);
    assert.equal(source.body.defaultUri, path);

    const withoutDefault = await declare('task_nodefault');
    const failing = randomUUID();
    await send(failing, StepKind.INGEST_DATASET, { sourceName: withoutDefault });
    const error = failed(await answer(failing));
    assert.deepEqual([error.code, error.retryable], ['NO_DATA_LOCATION', false]);
    assert.match(error.message, /no "uri".*defaultUri/);
  });

  it('answers TaskFailed naming the problem for bad inputs: unknown source, missing input, unknown format, a path outside the import folders', async () => {
    const source = await declare('task_bad');
    const cases: [Record<string, unknown>, string, RegExp, boolean][] = [
      [{ sourceName: 'no-such-source', uri: join(importRoot, 'x.csv') }, 'SOURCE_NOT_FOUND', /no-such-source/, false],
      [{ uri: join(importRoot, 'x.csv') }, 'INVALID_REQUEST', /"sourceName" is required/, false],
      [{ sourceName: source, uri: join(importRoot, 'x.csv'), format: 'xls' }, 'INVALID_REQUEST', /unknown format "xls"/, false],
      [{ sourceName: source, uri: '/etc/passwd', format: 'csv' }, 'INVALID_REQUEST', /outside the import folders/, false],
      [{ sourceName: source, uri: join(importRoot, 'not-there-yet.csv') }, 'DATA_NOT_FOUND', /no file at/, true],
    ];
    const runs = await Promise.all(cases.map(async ([params]) => {
      const runId = randomUUID();
      await send(runId, StepKind.INGEST_DATASET, params);
      return runId;
    }));
    for (const [index, [, code, message, retryable]] of cases.entries()) {
      const error = failed(await answer(runs[index]!));
      assert.equal(error.code, code, JSON.stringify(error));
      assert.match(error.message, message);
      assert.equal(error.retryable, retryable, code);
    }
    const versions = await rest<{ versions: unknown[] }>(ingestion.baseUrl, 'GET', `/v1/sources/${source}/versions`);
    assert.equal(versions.body.versions.length, 0, 'no version');
  });

  it('validates a version from its stored report: passed, or not with failOnWarnings when it has warnings; unknown ids fail', async () => {
    const source = await declare('task_validate');
    const clean = randomUUID();
    await send(clean, StepKind.INGEST_DATASET, { sourceName: source, uri: landing(`${source}-1.csv`, flightsCsv(80)) });
    const cleanId = String(completed(await answer(clean)).outputs.datasetVersionId);
    // An unknown category is a warning by default: accepted, but not clean.
    const warned = randomUUID();
    await send(warned, StepKind.INGEST_DATASET, { sourceName: source, uri: landing(`${source}-2.csv`, flightsCsv(80, (i) => (i % 10 === 0 ? 'SFO' : 'ATL'))) });
    const warnedId = String(completed(await answer(warned)).outputs.datasetVersionId);

    const validations = await Promise.all(
      [
        { datasetVersionId: cleanId },
        { datasetVersionId: warnedId },
        { datasetVersionId: warnedId, failOnWarnings: true },
      ].map(async (params) => {
        const runId = randomUUID();
        await send(runId, StepKind.VALIDATE_DATASET, params);
        return completed(await answer(runId)).outputs as { passed: boolean; datasetVersionId: string; report: { errorCount: number; warningCount: number; status: string; anomalies: { kind: string }[] } };
      }),
    );
    const [ok, warnings, strict] = validations as [(typeof validations)[0], (typeof validations)[0], (typeof validations)[0]];
    assert.deepEqual([ok.passed, ok.datasetVersionId, ok.report.errorCount, ok.report.status], [true, cleanId, 0, 'CREATED']);
    assert.equal(warnings.passed, true);
    assert.ok(warnings.report.warningCount > 0);
    assert.ok(warnings.report.anomalies.some((anomaly) => anomaly.kind === 'UNKNOWN_CATEGORY'));
    assert.equal(strict.passed, false);

    const unknown = randomUUID();
    await send(unknown, StepKind.VALIDATE_DATASET, { datasetVersionId: 'f'.repeat(64) });
    const error = failed(await answer(unknown));
    assert.deepEqual([error.code, error.retryable], ['DATASET_VERSION_NOT_FOUND', false]);
    const malformed = randomUUID();
    await send(malformed, StepKind.VALIDATE_DATASET, { datasetVersionId: 'latest' });
    assert.match(failed(await answer(malformed)).message, /datasetVersionId "latest" is not a dataset version id/);
  });
});
