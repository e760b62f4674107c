/**
 * A data source fed from a Kafka topic of rows (one JSON object per message): configured over
 * REST, micro-batched into dataset versions by size or time, each validated like an upload and
 * published as DatasetVersionCreated / DatasetVersionRejected; surviving a restart without losing
 * or repeating a row, even when the committed offsets are lost. Real: the ingestion service
 * (in-process, restarted on the same database and data folder), PostgreSQL, Kafka, chDB.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { DatasetVersionCreatedSchema, DatasetVersionRejectedSchema } from '@loopline/contracts';
import { createTestDatabase, eventually, freePort, testInfra, uniqueName } from '@loopline/testing';
import { DatasetVersionEvents, rest, startIngestion, type IngestionUnderTest } from './ingestion-harness';

const sourceName = (label: string) => uniqueName(label).replace(/_/g, '-').slice(0, 64);

const schema = {
  columns: [
    { name: 'date', type: 'timestamp', nullable: false },
    { name: 'delay', type: 'int64', nullable: true },
    { name: 'origin', type: 'string', nullable: false },
  ],
  eventTimeColumn: 'date',
  entityColumns: ['origin'],
};

interface VersionView {
  readonly versionId: string;
  readonly status: string;
  readonly rowCount: number;
  readonly origin: { readonly kind: string; readonly location: string; readonly offsets?: { partition: number; from: string; to: string }[] };
}

describe('a source fed from a Kafka topic', () => {
  const infra = testInfra();
  const kafka = new Kafka({ clientId: 'ingestion-streams-e2e', brokers: [...infra.kafkaBrokers], logLevel: logLevel.NOTHING });
  const dataDir = join(infra.dataDir, uniqueName('ingestion_streams'));
  const sources: string[] = [];
  const events = new DatasetVersionEvents();
  let postgresUrl: string;
  let ingestion: IngestionUnderTest;
  let producer: Producer;
  let rowSeq = 0;

  const start = async () =>
    startIngestion({ postgresUrl, kafkaBrokers: infra.kafkaBrokers, dataDir, grpcPort: await freePort() });

  before(async () => {
    postgresUrl = await createTestDatabase('ingestion_streams');
    ingestion = await start();
    await events.start({ kafkaBrokers: infra.kafkaBrokers, groupId: uniqueName('ingestion_streams_events'), sources: () => sources });
    producer = kafka.producer();
    await producer.connect();
  });

  after(async () => {
    await producer?.disconnect();
    await events.stop();
    await ingestion?.stop();
  });

  async function declare(label: string): Promise<{ source: string; topic: string }> {
    const source = sourceName(label);
    sources.push(source);
    assert.equal((await rest(ingestion.baseUrl, 'PUT', `/v1/sources/${source}`, schema)).status, 201);
    const topic = uniqueName(`rows.${label}`);
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    } finally {
      await admin.disconnect();
    }
    return { source, topic };
  }

  /** Distinct rows (each with its own time), as JSON messages. */
  async function produce(topic: string, n: number, row: (i: number) => Record<string, unknown> = () => ({})): Promise<void> {
    const messages = Array.from({ length: n }, (_, i) => {
      rowSeq += 1;
      const date = new Date(Date.UTC(2001, 0, 1) + rowSeq * 60_000).toISOString();
      return { value: JSON.stringify({ date, delay: rowSeq % 30, origin: ['ATL', 'ORD'][rowSeq % 2], ...row(i) }) };
    });
    await producer.send({ topic, messages });
  }

  async function versions(source: string): Promise<VersionView[]> {
    return (await rest<{ versions: VersionView[] }>(ingestion.baseUrl, 'GET', `/v1/sources/${source}/versions`)).body.versions;
  }

  const totalRows = (list: readonly VersionView[]) => list.reduce((sum, version) => sum + version.rowCount, 0);

  it('batches rows into versions by size first, then by time, each published as DatasetVersionCreated', async () => {
    const { source, topic } = await declare('stream_sizes');
    const put = await rest<{ topic: string; maxRows: number; maxIntervalMs: number; changed: boolean }>(ingestion.baseUrl, 'PUT', `/v1/sources/${source}/stream`, { topic, maxRows: 5, maxInterval: '2s' });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.deepEqual([put.body.topic, put.body.maxRows, put.body.maxIntervalMs, put.body.changed], [topic, 5, 2_000, true]);
    const again = await rest<{ changed: boolean }>(ingestion.baseUrl, 'PUT', `/v1/sources/${source}/stream`, { topic, maxRows: 5, maxInterval: '2s' });
    assert.equal(again.body.changed, false);

    await produce(topic, 12);
    await eventually(async () => totalRows(await versions(source)) === 12, { timeoutMs: 60_000, what: '12 rows in versions' });
    const list = (await versions(source)).reverse(); // oldest first
    assert.deepEqual(list.map((version) => version.rowCount), [5, 5, 2], 'two full batches, then the rest after maxInterval');
    for (const version of list) {
      assert.deepEqual([version.status, version.origin.kind, version.origin.location], ['CREATED', 'stream', topic]);
    }
    assert.deepEqual(list.map((version) => version.origin.offsets), [
      [{ partition: 0, from: '0', to: '4' }],
      [{ partition: 0, from: '5', to: '9' }],
      [{ partition: 0, from: '10', to: '11' }],
    ]);
    await eventually(() => events.of(source).length === 3, { timeoutMs: 30_000, what: 'three DatasetVersionCreated' });
    assert.ok(events.of(source).every((event) => event.type === DatasetVersionCreatedSchema.typeName));
    // The feed counts a batch once its offsets are committed, just after the version is recorded.
    const status = async () => (await rest<{ status: { state: string; batches: number; rows: number; pendingRows: number } }>(ingestion.baseUrl, 'GET', `/v1/sources/${source}/stream`)).body.status;
    await eventually(async () => (await status()).batches === 3, { timeoutMs: 10_000, what: 'three batches counted' });
    const { state, rows, pendingRows } = await status();
    assert.deepEqual([state, rows, pendingRows], ['consuming', 12, 0]);
  });

  it('validates each batch like an upload (a null in a non-nullable column rejects it) and sets aside messages that are not JSON objects', async () => {
    const { source, topic } = await declare('stream_validation');
    assert.equal((await rest(ingestion.baseUrl, 'PUT', `/v1/sources/${source}/stream`, { topic, maxRows: 4, maxInterval: '1h' })).status, 200);
    await producer.send({ topic, messages: [{ value: 'not json' }, { value: '[1, 2]' }] });
    await produce(topic, 4, (i) => (i === 2 ? { origin: null } : {}));
    await eventually(() => events.of(source).length === 1, { timeoutMs: 60_000, what: 'the rejected batch published' });
    assert.equal(events.of(source)[0]!.type, DatasetVersionRejectedSchema.typeName);
    const [rejected] = await versions(source);
    assert.deepEqual([rejected!.status, rejected!.rowCount], ['REJECTED', 4]);
    const stream = await rest<{ status: { deadLettered: number } }>(ingestion.baseUrl, 'GET', `/v1/sources/${source}/stream`);
    assert.equal(stream.body.status.deadLettered, 2);

    const dlq = kafka.consumer({ groupId: uniqueName('stream_dlq') });
    const setAside: string[] = [];
    await dlq.connect();
    try {
      await dlq.subscribe({ topic: `${topic}.dlq`, fromBeginning: true });
      await dlq.run({ eachMessage: async ({ message }) => void setAside.push(`${message.headers?.['loopline-dlq-error-code']?.toString()}:${message.value?.toString()}`) });
      await eventually(() => setAside.length === 2, { timeoutMs: 30_000, what: 'two dead letters' });
    } finally {
      await dlq.disconnect();
    }
    assert.deepEqual(setAside.sort(), ['NOT_A_JSON_OBJECT:[1, 2]', 'NOT_A_JSON_OBJECT:not json']);
  });

  it('survives a restart: the setting stays, rows produced meanwhile are batched, and none is lost or repeated even when the committed offsets are lost', async () => {
    const { source, topic } = await declare('stream_restart');
    assert.equal((await rest(ingestion.baseUrl, 'PUT', `/v1/sources/${source}/stream`, { topic, maxRows: 3, maxInterval: '1s' })).status, 200);
    await produce(topic, 6);
    await eventually(async () => totalRows(await versions(source)) === 6, { timeoutMs: 60_000, what: '6 rows in versions' });

    await ingestion.stop();
    await produce(topic, 4);
    // As if the process had died after recording its last batches but before committing them.
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.setOffsets({ groupId: `ingestion-stream.${source}.${topic}`, topic, partitions: [{ partition: 0, offset: '0' }] });
    } finally {
      await admin.disconnect();
    }
    ingestion = await start();
    const stream = await rest<{ topic: string; maxRows: number }>(ingestion.baseUrl, 'GET', `/v1/sources/${source}/stream`);
    assert.deepEqual([stream.status, stream.body.topic, stream.body.maxRows], [200, topic, 3]);
    await eventually(async () => totalRows(await versions(source)) >= 10, { timeoutMs: 60_000, what: 'the 4 new rows in versions' });
    const list = (await versions(source)).reverse();
    assert.equal(totalRows(list), 10, 'every row once');
    const offsets = list.flatMap((version) => version.origin.offsets ?? []).map((range) => [Number(range.from), Number(range.to)] as const);
    const covered = offsets.flatMap(([from, to]) => Array.from({ length: to - from + 1 }, (_, i) => from + i)).sort((a, b) => a - b);
    assert.deepEqual(covered, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'each offset in exactly one version');
  });

  it('stops on DELETE, and refuses bad settings with 400 naming the field', async () => {
    const { source, topic } = await declare('stream_stop');
    assert.equal((await rest(ingestion.baseUrl, 'PUT', `/v1/sources/${source}/stream`, { topic, maxRows: 2, maxInterval: '500ms' })).status, 200);
    await produce(topic, 2);
    await eventually(async () => (await versions(source)).length === 1, { timeoutMs: 60_000, what: 'the first batch' });
    const deleted = await rest<{ stopped: boolean }>(ingestion.baseUrl, 'DELETE', `/v1/sources/${source}/stream`);
    assert.deepEqual([deleted.status, deleted.body.stopped], [200, true]);
    assert.equal((await rest(ingestion.baseUrl, 'GET', `/v1/sources/${source}/stream`)).status, 404);
    assert.equal((await rest(ingestion.baseUrl, 'DELETE', `/v1/sources/${source}/stream`)).status, 404);
    await produce(topic, 2);
    // Several batch intervals pass with no consumer: nothing new is ingested.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    assert.equal((await versions(source)).length, 1);

    const bad: [Record<string, unknown>, string][] = [
      [{}, 'topic'],
      [{ topic: 'bad topic!' }, 'topic'],
      [{ topic, maxRows: 0 }, 'maxRows'],
      [{ topic, maxInterval: 'soon' }, 'maxInterval'],
      [{ topic, maxRows: 5, extra: true }, 'body'],
    ];
    for (const [body, field] of bad) {
      const response = await rest<{ error: string; details: { field: string } }>(ingestion.baseUrl, 'PUT', `/v1/sources/${source}/stream`, body);
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.ok(response.body.details.field === field || response.body.error.includes(field), `${JSON.stringify(body)} → ${JSON.stringify(response.body)}`);
    }
    assert.equal((await rest(ingestion.baseUrl, 'PUT', `/v1/sources/no-such-source/stream`, { topic })).status, 404);
  });
});
