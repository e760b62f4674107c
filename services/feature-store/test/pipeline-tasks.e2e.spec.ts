// The feature store as a pipeline-task executor, through Kafka as orchestration drives it: RunTask
// commands on `loopline.orchestration.task-commands.v1`, answers on
// `loopline.orchestration.task-results.v1`. Real: the service, Kafka, PostgreSQL, chDB; only the
// ingestion service is stood in for (harness.ts). The spec's commands carry a pipeline name of
// its own, and the executor only accepts that name, so other specs' commands never reach it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { decodeEvent, getTopic, RunTaskSchema, StepKind, TaskCompletedSchema, TaskFailedSchema } from '@loopline/contracts';
import type { Consumer } from 'kafkajs';
import { contractMessage, createEventProducer, createKafkaClient, ensureTopics, type EventProducer } from '@loopline/messaging';
import { createTestDatabase, eventually, freePort, testInfra, uniqueName } from '@loopline/testing';
import { definitionsYaml, labelsStructure, trips, tripsStructure, at } from './fixtures';
import { queryRows, rest, startFeatureStore, trainingSetRows, type DatasetVersion, type FeatureStoreUnderTest } from './harness';

const commandsTopic = 'loopline.orchestration.task-commands.v1';
const resultsTopic = 'loopline.orchestration.task-results.v1';

interface Answer {
  readonly type: string;
  readonly id: string;
  readonly runId: string;
  readonly message: {
    readonly idempotencyKey: string;
    readonly executor: string;
    readonly outputs?: Record<string, unknown>;
    readonly logsTail?: string;
    readonly error?: { readonly code: string; readonly message: string; readonly retryable: boolean };
  };
}

/** A decoded message as plain JSON data (its timestamps hold bigints). */
function plain(message: unknown): unknown {
  return JSON.parse(JSON.stringify(message, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)));
}

describe('FeatureStore pipeline tasks', () => {
  const pipelineName = uniqueName('fs_pipeline');
  let store: FeatureStoreUnderTest;
  let producer: EventProducer;
  let results: Consumer;
  const answers: Answer[] = [];
  let tripsDay1: DatasetVersion;

  const sql = <T>(text: string, values: unknown[] = []) => queryRows<T>(store.postgresUrl, text, values);

  async function send(runId: string, stepKind: StepKind, params: Record<string, unknown>, idempotencyKey = `${runId}/task/1`): Promise<string> {
    const message = create(RunTaskSchema, { runId, taskId: 'task', stepKind, idempotencyKey, params: params as never, attempt: 1, pipelineName });
    await producer.publish([contractMessage({ topic: commandsTopic, key: runId, id: randomUUID(), source: '/loopline/tests', time: new Date(), message })]);
    return idempotencyKey;
  }

  const answersFor = (runId: string) => answers.filter((answer) => answer.runId === runId);

  async function answerOf(runId: string, count = 1): Promise<Answer> {
    await eventually(() => answersFor(runId).length >= count, { timeoutMs: 90_000, what: `answer ${count} of run ${runId}` });
    return answersFor(runId)[count - 1]!;
  }

  before(async () => {
    const infra = testInfra();
    store = await startFeatureStore({
      postgresUrl: await createTestDatabase('feature_store_tasks'),
      kafkaBrokers: infra.kafkaBrokers,
      dataDir: join(infra.dataDir, uniqueName('feature_store_tasks')),
      grpcPort: await freePort(),
      env: {
        LOOPLINE_FEATURE_STORE_TASKS: 'true',
        LOOPLINE_FEATURE_STORE_TASK_CONSUMER_GROUP: uniqueName('fs_tasks'),
        LOOPLINE_FEATURE_STORE_TASK_PIPELINES: pipelineName,
      },
    });
    const kafka = createKafkaClient({ clientId: 'fs-tasks-test', brokers: infra.kafkaBrokers }, store.service.logger);
    producer = createEventProducer(kafka, { logger: store.service.logger });
    await producer.connect();
    const admin = kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, [commandsTopic, resultsTopic].map((topic) => ({ topic, numPartitions: getTopic(topic).partitions, replicationFactor: 1 })));
    } finally {
      await admin.disconnect();
    }
    // Every answer on the results topic, read from the beginning; each test picks its runs' answers.
    results = kafka.consumer({ groupId: uniqueName('fs_task_results'), sessionTimeout: 6_000, heartbeatInterval: 500, maxWaitTimeInMs: 100 });
    await results.connect();
    await results.subscribe({ topics: [resultsTopic], fromBeginning: true });
    await results.run({
      eachMessage: async ({ message }) => {
        const event = decodeEvent({ key: message.key, value: message.value, headers: message.headers ?? {} }, resultsTopic);
        answers.push({ type: event.type, id: event.id, runId: event.key ?? '', message: plain(event.message) as Answer['message'] });
      },
    });
    assert.equal((await rest(store.baseUrl, 'POST', '/v1/definitions/apply', { file: definitionsYaml, fileName: 'features.yaml' })).status, 200);
    tripsDay1 = await store.ingestion.add('trips', await store.writeParquet('trips-day1', tripsStructure, trips), 'date', {
      eventTimeRange: { start: '2024-03-01T09:00:00.000Z', end: '2024-03-01T12:00:00.000Z' },
    });
  });

  after(async () => {
    await results?.disconnect();
    await producer?.disconnect();
    await store?.stop();
  });

  describe('materialize', () => {
    let completed: Answer;

    it('answers TaskCompleted with the materialization, its view version and row count', async () => {
      const runId = randomUUID();
      await send(runId, StepKind.MATERIALIZE_FEATURES, { view: 'origin_stats', datasetVersionId: tripsDay1.versionId });
      completed = await answerOf(runId);
      assert.equal(completed.type, TaskCompletedSchema.typeName, JSON.stringify(completed.message));
      assert.equal(completed.message.executor, 'feature-store');
      const outputs = completed.message.outputs!;
      assert.match(String(outputs.materializationId), /^[0-9a-f-]{36}$/);
      assert.deepEqual({ viewVersion: outputs.viewVersion, rowCount: outputs.rowCount, onlineRowCount: outputs.onlineRowCount }, { viewVersion: 1, rowCount: 4, onlineRowCount: 2 });
      assert.equal(outputs.sourceDatasetVersionId, tripsDay1.versionId);
      assert.match(completed.message.logsTail ?? '', /materialization .*: 4 offline rows, 2 online rows/);
      const record = await rest(store.baseUrl, 'GET', `/v1/materializations/${String(outputs.materializationId)}`);
      assert.equal(record.body.status, 'completed');
    });

    it('materializes the source’s latest dataset version when none is named, once per idempotency key', async () => {
      const runId = randomUUID();
      const key = await send(runId, StepKind.MATERIALIZE_FEATURES, { view: 'origin_profile' });
      const first = await answerOf(runId);
      assert.equal(first.type, TaskCompletedSchema.typeName, JSON.stringify(first.message));
      assert.equal(first.message.outputs!.sourceDatasetVersionId, tripsDay1.versionId);

      // A newer version arrives; the same command delivered again answers what was done, not a new effect.
      const newer = await store.ingestion.add('trips', await store.writeParquet('trips-newer', tripsStructure, [...trips, { date: at('15:00:00.000'), origin: 'B', destination: 'Y', delay: 1, distance: 1 }]));
      await send(runId, StepKind.MATERIALIZE_FEATURES, { view: 'origin_profile' }, key);
      const again = await answerOf(runId, 2);
      assert.deepEqual(again.message.outputs, first.message.outputs);
      assert.equal(again.id, first.id, 'the recorded answer, with its CloudEvents id');
      const done = await sql<{ dataset_version_id: string }>(`SELECT dataset_version_id FROM feature_store.materializations WHERE view_name = 'origin_profile'`);
      assert.deepEqual(done.map((row) => row.dataset_version_id), [tripsDay1.versionId], 'the newer version was not materialized by the redelivery');
      const ledger = await sql<{ n: string }>(`SELECT count(*) AS n FROM feature_store.task_executions WHERE idempotency_key = $1`, [key]);
      assert.equal(ledger[0]!.n, '1');

      // A new attempt (new key) sees the newer version.
      const retry = randomUUID();
      await send(retry, StepKind.MATERIALIZE_FEATURES, { view: 'origin_profile' });
      assert.equal((await answerOf(retry)).message.outputs!.sourceDatasetVersionId, newer.versionId);
    });

    it('answers TaskFailed naming the problem: unknown view, unknown or missing input, unknown dataset version', async () => {
      const unknownView = randomUUID();
      const unknownInput = randomUUID();
      const missingInput = randomUUID();
      const unknownVersion = randomUUID();
      await send(unknownView, StepKind.MATERIALIZE_FEATURES, { view: 'no_such_view' });
      await send(unknownInput, StepKind.MATERIALIZE_FEATURES, { view: 'origin_stats', viewName: 'origin_stats' });
      await send(missingInput, StepKind.MATERIALIZE_FEATURES, { version: 1 });
      await send(unknownVersion, StepKind.MATERIALIZE_FEATURES, { view: 'origin_stats', datasetVersionId: 'f'.repeat(64) });
      const failures = await Promise.all([unknownView, unknownInput, missingInput, unknownVersion].map((runId) => answerOf(runId)));
      for (const failure of failures) assert.equal(failure.type, TaskFailedSchema.typeName, JSON.stringify(failure.message));
      const errors = failures.map((failure) => failure.message.error!);
      assert.deepEqual(errors.map((error) => [error.code, error.retryable]), [
        ['FEATURE_VIEW_NOT_FOUND', false],
        ['INVALID_REQUEST', false],
        ['INVALID_REQUEST', false],
        ['DATASET_NOT_FOUND', false],
      ]);
      assert.match(errors[0]!.message, /unknown feature view "no_such_view"/);
      assert.match(errors[1]!.message, /params: unknown input\(s\) viewName/);
      assert.match(errors[2]!.message, /params\.view: Required/);
      assert.match(errors[3]!.message, /no such data source or dataset version/);
    });
  });

  describe('build_training_set', () => {
    let labelsDay1: DatasetVersion;
    let labelsDay2: DatasetVersion;
    let tripsDay2: DatasetVersion;
    const day2 = (time: string) => `2024-03-02 ${time}`;

    before(async () => {
      // Micro-batches: each day's flights and labels are a dataset version of their own.
      tripsDay2 = await store.ingestion.add(
        'trips',
        await store.writeParquet('trips-day2', tripsStructure, [
          { date: day2('09:00:00.000'), origin: 'A', destination: 'X', delay: 30, distance: 500 },
          { date: day2('09:30:00.000'), origin: 'B', destination: 'X', delay: 0, distance: 600 },
        ]),
        'date',
        { eventTimeRange: { start: '2024-03-02T09:00:00.000Z', end: '2024-03-02T09:30:00.000Z' } },
      );
      labelsDay1 = await store.ingestion.add(
        'labels',
        await store.writeParquet('labels-day1', labelsStructure, [
          { date: at('10:00:00.000'), origin: 'A', label: 0 },
          { date: at('11:00:00.000'), origin: 'A', label: 1 },
          { date: at('09:30:00.000'), origin: 'B', label: 0 },
        ]),
        'date',
        { eventTimeRange: { start: '2024-03-01T09:30:00.000Z', end: '2024-03-01T11:00:00.000Z' } },
      );
      labelsDay2 = await store.ingestion.add(
        'labels',
        await store.writeParquet('labels-day2', labelsStructure, [
          { date: day2('09:45:00.000'), origin: 'A', label: 1 },
          { date: day2('10:00:00.000'), origin: 'B', label: 0 },
        ]),
        'date',
        { eventTimeRange: { start: '2024-03-02T09:45:00.000Z', end: '2024-03-02T10:00:00.000Z' } },
      );
      for (const version of [tripsDay1, tripsDay2]) {
        const response = await rest(store.baseUrl, 'POST', '/v1/materializations', { view: 'origin_profile', datasetVersionId: version.versionId });
        assert.equal(response.status, 200, JSON.stringify(response.body));
      }
    });


    it('answers TaskCompleted with the training set of one dataset version, built once per idempotency key', async () => {
      const runId = randomUUID();
      const params = { entities: { source: 'labels', versionId: labelsDay1.versionId }, features: ['origin_profile:last_distance'], datasetVersions: { trips: tripsDay1.versionId } };
      const key = await send(runId, StepKind.BUILD_TRAINING_SET, params);
      const first = await answerOf(runId);
      assert.equal(first.type, TaskCompletedSchema.typeName, JSON.stringify(first.message));
      const outputs = first.message.outputs!;
      assert.match(String(outputs.trainingSetId), /^[0-9a-f]{64}$/);
      assert.equal(outputs.rowCount, 3);
      assert.deepEqual(outputs.usedDatasetVersionIds, [labelsDay1.versionId, tripsDay1.versionId]);
      assert.deepEqual(outputs.usedFeatureViews, ['origin_profile@v1']);
      const rows = await trainingSetRows(store, String(outputs.trainingSetId));
      assert.deepEqual(rows.map((row) => [row.origin, row.label, row.origin_profile__last_distance]), [['A', 0, 100], ['A', 1, 110], ['B', 0, 300]]);

      await send(runId, StepKind.BUILD_TRAINING_SET, params, key);
      const again = await answerOf(runId, 2);
      assert.equal(again.id, first.id);
      assert.deepEqual(again.message.outputs, outputs);
      const ledger = await sql<{ status: string }>(`SELECT status FROM feature_store.task_executions WHERE idempotency_key = $1`, [key]);
      assert.deepEqual(ledger.map((row) => row.status), ['completed']);
      const sets = await sql<{ n: string }>(`SELECT count(*) AS n FROM feature_store.training_sets`);
      assert.equal(sets[0]!.n, '1');
    });

    it('reads every dataset version of the source in [start, end) with versionId "all", joining every materialized version', async () => {
      const runId = randomUUID();
      await send(runId, StepKind.BUILD_TRAINING_SET, {
        entities: { source: 'labels', versionId: 'all' },
        features: ['origin_profile:last_distance'],
        start: '2024-03-01T10:30:00Z',
        end: '2024-03-03T00:00:00Z',
      });
      const answer = await answerOf(runId);
      assert.equal(answer.type, TaskCompletedSchema.typeName, JSON.stringify(answer.message));
      const id = String(answer.message.outputs!.trainingSetId);
      assert.equal(answer.message.outputs!.rowCount, 3);
      const rows = await trainingSetRows(store, id);
      // Day 1's label at 11:00 joins day 1's flights, day 2's labels join day 2's: one set across micro-batches.
      assert.deepEqual(rows.map((row) => [row.origin, row.label, row.origin_profile__last_distance]), [['A', 1, 110], ['A', 1, 500], ['B', 0, 600]]);
      const record = await rest(store.baseUrl, 'GET', `/v1/training-sets/${id}`);
      assert.equal(record.body.recipe.entities.selector, 'all');
      assert.deepEqual(record.body.recipe.entities.versions.map((version: { versionId: string }) => version.versionId), [labelsDay1.versionId, labelsDay2.versionId]);
      const joined = record.body.recipe.views[0].datasetVersionIds as string[];
      assert.ok(joined.includes(tripsDay1.versionId) && joined.includes(tripsDay2.versionId), JSON.stringify(record.body.recipe.views));
      assert.deepEqual(new Set(record.body.lineage.datasetVersionIds), new Set([labelsDay1.versionId, labelsDay2.versionId, ...joined]));
      const rebuilt = await rest(store.baseUrl, 'POST', `/v1/training-sets/${id}/rebuild`);
      assert.deepEqual(rebuilt.body, { id, rebuiltSha256: id, identical: true });
    });

    it('answers TaskFailed naming the problem: no version in range, an unknown datasetVersions key, both features and featureService', async () => {
      const empty = randomUUID();
      const typo = randomUUID();
      const both = randomUUID();
      await send(empty, StepKind.BUILD_TRAINING_SET, { entities: { source: 'labels', versionId: 'all' }, features: ['origin_profile:last_distance'], start: '2030-01-01T00:00:00Z' });
      await send(typo, StepKind.BUILD_TRAINING_SET, { entities: { source: 'labels', versionId: labelsDay1.versionId }, features: ['origin_profile:last_distance'], datasetVersions: { trps: tripsDay1.versionId } });
      await send(both, StepKind.BUILD_TRAINING_SET, { entities: { source: 'labels', versionId: labelsDay1.versionId }, features: ['origin_profile:last_distance'], featureService: 'delay_model' });
      const errors = (await Promise.all([empty, typo, both].map((runId) => answerOf(runId)))).map((answer) => {
        assert.equal(answer.type, TaskFailedSchema.typeName, JSON.stringify(answer.message));
        return answer.message.error!;
      });
      assert.deepEqual(errors.map((error) => [error.code, error.retryable]), [['INVALID_REQUEST', false], ['INVALID_REQUEST', false], ['INVALID_REQUEST', false]]);
      assert.match(errors[0]!.message, /source "labels" has no accepted dataset version with rows in \[2030-01-01T00:00:00.000Z, ∞\)/);
      assert.match(errors[1]!.message, /datasetVersions\.trps: no feature view of the request is named "trps" or reads a source named so/);
      assert.match(errors[2]!.message, /give featureService or features, not both/);
    });
  });
});
