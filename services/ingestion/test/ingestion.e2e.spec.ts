/**
 * The ingestion service through its public REST API, in-process on the run's real PostgreSQL and
 * Kafka, with its chDB engine: declare sources, ingest CSV, JSON Lines and Parquet, read versions
 * and their data back, and see every outcome on `loopline.ingestion.dataset-versions.v1`.
 * Real: everything.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, eventually, freePort, testInfra, uniqueName } from '@loopline/testing';
import { DatasetVersionEvents, leftoverUploads, rest, startIngestion, storedBlobs, upload, type IngestionUnderTest } from './ingestion-harness';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const sourceName = (label: string) => uniqueName(label).replace(/_/g, '-').slice(0, 64);

/** The flights schema, small: event time, an entity, a nullable ranged number and categories. */
function flightsSchema(policy: Record<string, unknown> = {}, overrides: { columns?: Record<string, Record<string, unknown>> } = {}) {
  const columns = [
    { name: 'date', type: 'timestamp', nullable: false },
    { name: 'delay', type: 'int64', nullable: true, min: -1440, max: 1440 },
    { name: 'distance', type: 'int64', nullable: false },
    { name: 'origin', type: 'string', nullable: false },
    { name: 'destination', type: 'string', nullable: false },
  ].map((column) => ({ ...column, ...(overrides.columns?.[column.name] ?? {}) }));
  return { columns, eventTimeColumn: 'date', entityColumns: ['origin'], policy };
}

type Flight = [date: string, delay: string, distance: string, origin: string, destination: string];

function csv(rows: readonly Flight[], header = 'date,delay,distance,origin,destination'): string {
  return `${header}\n${rows.map((row) => row.join(',')).join('\n')}\n`;
}

/** n plausible flights; delays and origins drawn from the given generators. */
function flights(n: number, options: { delay?: (i: number) => string; origin?: (i: number) => string; day?: number } = {}): Flight[] {
  const airports = ['ATL', 'ORD', 'DFW', 'LAX'];
  return Array.from({ length: n }, (_, i): Flight => [
    `2001-01-${String((options.day ?? 1) + (i % 20)).padStart(2, '0')} ${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00`,
    options.delay ? options.delay(i) : String((i * 7) % 40 - 10),
    String(200 + ((i * 37) % 2000)),
    options.origin ? options.origin(i) : airports[i % 4]!,
    airports[(i + 1) % 4]!,
  ]);
}

describe('ingestion REST API', () => {
  let ingestion: IngestionUnderTest;
  const events = new DatasetVersionEvents();
  const sources: string[] = [];
  const importRoot = join(testInfra().dataDir, uniqueName('imports'));
  const declare = async (label: string, schema: unknown) => {
    const name = sourceName(label);
    sources.push(name);
    const response = await rest(ingestion.baseUrl, 'PUT', `/v1/sources/${name}`, schema);
    assert.equal(response.status, 201, JSON.stringify(response.body));
    return name;
  };

  before(async () => {
    mkdirSync(importRoot, { recursive: true });
    const infra = testInfra();
    ingestion = await startIngestion({
      postgresUrl: await createTestDatabase('ingestion_e2e'),
      kafkaBrokers: infra.kafkaBrokers,
      dataDir: join(infra.dataDir, uniqueName('ingestion_e2e')),
      grpcPort: await freePort(),
      env: { LOOPLINE_INGESTION_IMPORT_ROOTS: importRoot },
    });
    await events.start({ kafkaBrokers: infra.kafkaBrokers, groupId: uniqueName('ingestion_e2e'), sources: () => sources });
  });

  after(async () => {
    await events.stop();
    await ingestion?.stop();
  });

  describe('a data source', () => {
    it('is created with schema version 1, unchanged by the same definition, versioned by a change', async () => {
      const name = sourceName('flights');
      const created = await rest(ingestion.baseUrl, 'PUT', `/v1/sources/${name}`, flightsSchema(), { 'x-loopline-actor': 'user:alice' });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.schemaVersion, 1);
      assert.equal(created.body.changed, true);
      const same = await rest(ingestion.baseUrl, 'PUT', `/v1/sources/${name}`, flightsSchema());
      assert.equal(same.status, 200);
      assert.deepEqual([same.body.schemaVersion, same.body.changed], [1, false]);
      const changed = await rest(ingestion.baseUrl, 'PUT', `/v1/sources/${name}`, flightsSchema({ rules: { categories: 'error' } }));
      assert.deepEqual([changed.status, changed.body.schemaVersion, changed.body.changed], [200, 2, true]);
      const read = await rest<{ policy: { rules: Record<string, string> }; eventTimeColumn: string; entityColumns: string[] }>(ingestion.baseUrl, 'GET', `/v1/sources/${name}`);
      assert.equal(read.status, 200);
      assert.equal(read.body.policy.rules.categories, 'error');
      assert.equal(read.body.policy.rules.typeMismatch, 'error', 'defaults fill the rules not given');
      assert.deepEqual([read.body.eventTimeColumn, read.body.entityColumns], ['date', ['origin']]);
    });

    it('refuses a definition that breaks a rule, naming the field', async () => {
      const bad = await rest(ingestion.baseUrl, 'PUT', `/v1/sources/${sourceName('bad')}`, { ...flightsSchema(), eventTimeColumn: 'distance' });
      assert.equal(bad.status, 400);
      assert.match(String(bad.body.error), /event-time column "distance" must be of type timestamp or date/);
      const typo = await rest(ingestion.baseUrl, 'PUT', `/v1/sources/${sourceName('bad')}`, { columns: [{ name: 'a', type: 'int64', nulable: true }] });
      assert.equal(typo.status, 400);
      assert.match(String(typo.body.error), /nulable/);
    });

    it('answers 404 for an unknown source, and for an upload to one', async () => {
      const unknown = sourceName('nobody');
      assert.equal((await rest(ingestion.baseUrl, 'GET', `/v1/sources/${unknown}`)).status, 404);
      assert.equal((await upload(ingestion.baseUrl, unknown, csv(flights(3)), 'csv')).status, 404);
    });
  });

  describe('when a CSV file is uploaded', () => {
    let name: string;
    let versionId: string;
    const data = csv(flights(200));

    before(async () => {
      name = await declare('flights', flightsSchema());
    });

    it('answers 201 CREATED with the version id, row count and a clean report', async () => {
      const response = await upload(ingestion.baseUrl, name, data, 'csv', { 'x-loopline-actor': 'user:bob' });
      assert.equal(response.status, 201, JSON.stringify(response.body));
      assert.equal(response.body.status, 'CREATED');
      assert.equal(response.body.rowCount, 200);
      const report = response.body.report as { errorCount: number; warningCount: number; checksEvaluated: number };
      assert.deepEqual([report.errorCount, report.warningCount], [0, 0]);
      assert.ok(report.checksEvaluated >= 10);
      versionId = String(response.body.versionId);
      assert.match(versionId, /^[0-9a-f]{64}$/);
    });

    it('serves the version with columns, statistics and artifact, and the Parquet whose SHA-256 is the id', async () => {
      const version = await rest<Record<string, unknown> & { artifact: { sha256: string; sizeBytes: number }; columns: unknown[]; statistics: { name: string; min: unknown; max: unknown }[] }>(
        ingestion.baseUrl,
        'GET',
        `/v1/sources/${name}/versions/${versionId}`,
      );
      assert.equal(version.status, 200);
      assert.deepEqual(
        { source: version.body.source, versionId: version.body.versionId, sha256: version.body.sha256, rowCount: version.body.rowCount, schemaVersion: version.body.schemaVersion, eventTimeColumn: version.body.eventTimeColumn, entityColumns: version.body.entityColumns, status: version.body.status },
        { source: name, versionId, sha256: versionId, rowCount: 200, schemaVersion: 1, eventTimeColumn: 'date', entityColumns: ['origin'], status: 'CREATED' },
      );
      assert.deepEqual(version.body.columns[1], { name: 'delay', type: 'int64', nullable: true });
      assert.deepEqual(version.body.statistics.find((column) => column.name === 'delay'), {
        ...version.body.statistics.find((column) => column.name === 'delay'),
        min: -10,
        max: 29,
      });
      const download = await fetch(`${ingestion.baseUrl}/v1/sources/${name}/versions/${versionId}/data`);
      assert.equal(download.status, 200);
      const bytes = Buffer.from(await download.arrayBuffer());
      assert.equal(download.headers.get('x-loopline-sha256'), versionId);
      assert.equal(sha256(bytes), versionId);
      assert.equal(bytes.subarray(0, 4).toString(), 'PAR1');
      const latest = await rest(ingestion.baseUrl, 'GET', `/v1/sources/${name}/versions/latest`);
      assert.equal(latest.body.versionId, versionId);
    });

    it('publishes DatasetVersionCreated with the columns, event time and entities', async () => {
      const [created] = (await eventually(() => (events.of(name).length > 0 ? events.of(name) : undefined), { timeoutMs: 20_000, what: 'DatasetVersionCreated' }))!;
      assert.equal(created!.type, 'loopline.ingestion.v1.DatasetVersionCreated');
      const message = created!.message as unknown as { datasetVersionId: string; rowCount: bigint; eventTimeColumn: string; entityColumns: string[]; columns: { name: string }[]; artifactUri: string };
      assert.equal(message.datasetVersionId, versionId);
      assert.equal(message.rowCount, 200n);
      assert.equal(message.eventTimeColumn, 'date');
      assert.deepEqual(message.entityColumns, ['origin']);
      assert.deepEqual(message.columns.map((column) => column.name), ['date', 'delay', 'distance', 'origin', 'destination']);
      assert.match(message.artifactUri, new RegExp(`sha256/${versionId}$`));
    });

    it('gives the same version, UNCHANGED, for the same data again — as CSV, as JSON Lines, or as the Parquet it produced', async () => {
      const again = await upload(ingestion.baseUrl, name, data, 'csv');
      assert.deepEqual([again.status, again.body.status, again.body.versionId], [201, 'UNCHANGED', versionId]);
      // Same rows in another order and format: the canonical Parquet is the same.
      const rows = flights(200).reverse();
      const jsonl = rows.map(([date, delay, distance, origin, destination]) => JSON.stringify({ date, delay: Number(delay), distance: Number(distance), origin, destination })).join('\n');
      const asJson = await upload(ingestion.baseUrl, name, jsonl, 'jsonl');
      assert.deepEqual([asJson.status, asJson.body.status, asJson.body.versionId], [201, 'UNCHANGED', versionId], JSON.stringify(asJson.body));
      const parquet = Buffer.from(await (await fetch(`${ingestion.baseUrl}/v1/sources/${name}/versions/${versionId}/data`)).arrayBuffer());
      const asParquet = await upload(ingestion.baseUrl, name, parquet, 'parquet');
      assert.deepEqual([asParquet.status, asParquet.body.status, asParquet.body.versionId], [201, 'UNCHANGED', versionId], JSON.stringify(asParquet.body));
      const versions = await rest<{ versions: unknown[] }>(ingestion.baseUrl, 'GET', `/v1/sources/${name}/versions`);
      assert.equal(versions.body.versions.length, 1);
      // A later, different version is the sentinel: once its event arrived, no second event for the first one came before it.
      const other = await upload(ingestion.baseUrl, name, csv(flights(210)), 'csv');
      assert.equal(other.body.status, 'CREATED');
      await eventually(() => events.of(name).length >= 2, { timeoutMs: 20_000, what: 'second event' });
      assert.deepEqual(
        events.of(name).map((event) => (event.message as unknown as { datasetVersionId: string }).datasetVersionId),
        [versionId, other.body.versionId],
      );
    });

    it('reports progress under the id the client chose', async () => {
      const id = uniqueName('progress');
      const response = await upload(ingestion.baseUrl, name, csv(flights(220)), undefined, { 'content-type': 'text/csv', 'x-loopline-ingestion-id': id });
      assert.equal(response.status, 201, JSON.stringify(response.body));
      assert.equal(response.body.ingestionId, id);
      const progress = await rest(ingestion.baseUrl, 'GET', `/v1/ingestions/${id}`);
      assert.equal(progress.status, 200);
      assert.equal(progress.body.phase, 'done');
      assert.equal(progress.body.rowCount, 220);
      assert.ok(Number(progress.body.bytesReceived) > 0);
      assert.deepEqual(progress.body.outcome, { status: 'CREATED', versionId: response.body.versionId });
      const ofSource = await rest<{ ingestions: { ingestionId: string }[] }>(ingestion.baseUrl, 'GET', `/v1/sources/${name}/ingestions`);
      assert.ok(ofSource.body.ingestions.some((entry) => entry.ingestionId === id));
    });
  });

  describe('bad input', () => {
    let name: string;

    before(async () => {
      name = await declare('bad-input', flightsSchema());
    });

    const cases: { what: string; body: Buffer | string; format: string | undefined; error: RegExp; details?: Record<string, unknown> }[] = [
      {
        what: 'a CSV file missing a declared column',
        body: csv(flights(5).map((row) => [row[0], row[1], row[2], row[3], ''] as Flight).map((row) => row), 'date,delay,distance,origin,dest'),
        format: 'csv',
        error: /does not match the schema .*no column "destination"/,
        details: { column: 'destination' },
      },
      {
        what: 'a CSV file with a malformed row',
        body: `${csv(flights(3))}2001-01-04 00:00:00,1,300,ATL,ORD,EXTRA,FIELDS\n`,
        format: 'csv',
        error: /not a readable CSV file \(row 4\)/,
        details: { row: 4 },
      },
      { what: 'a corrupt Parquet file', body: Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(2000, 7), Buffer.from('PAR1')]), format: 'parquet', error: /not a readable Parquet file/ },
      { what: 'a CSV sent as Parquet', body: csv(flights(5)), format: 'parquet', error: /not a readable Parquet file/ },
      { what: 'invalid JSON Lines', body: '{"date":"2001-01-01 00:00:00","delay":1}\nnot json\n', format: 'jsonl', error: /not a readable JSON Lines file \(row 2\)/ },
      { what: 'an unknown format', body: csv(flights(5)), format: 'xlsx', error: /unknown format "xlsx"/ },
      { what: 'no format at all', body: csv(flights(5)), format: undefined, error: /unknown format/ },
      { what: 'an empty body', body: '', format: 'csv', error: /is empty/ },
    ];

    for (const { what, body, format, error, details } of cases) {
      it(`refuses ${what} with 400 naming the problem, and keeps nothing`, async () => {
        const blobsBefore = storedBlobs(ingestion.artifactRoot).length;
        const response = await upload(ingestion.baseUrl, name, body, format);
        assert.equal(response.status, 400, JSON.stringify(response.body));
        assert.match(String(response.body.error), error);
        if (details) for (const [key, value] of Object.entries(details)) assert.equal((response.body.details as Record<string, unknown>)[key], value, key);
        assert.equal(storedBlobs(ingestion.artifactRoot).length, blobsBefore, 'no artifact stored');
        assert.deepEqual(leftoverUploads(ingestion.artifactRoot), [], 'no temporary file left');
        const versions = await rest<{ versions: unknown[] }>(ingestion.baseUrl, 'GET', `/v1/sources/${name}/versions`);
        assert.equal(versions.body.versions.length, 0, 'no version');
      });
    }

    it('published no event for any of them', async () => {
      const good = await upload(ingestion.baseUrl, name, csv(flights(5)), 'csv');
      assert.equal(good.body.status, 'CREATED');
      await eventually(() => events.of(name).length >= 1, { timeoutMs: 20_000, what: 'the sentinel event' });
      assert.deepEqual(
        events.of(name).map((event) => (event.message as unknown as { datasetVersionId: string }).datasetVersionId),
        [good.body.versionId],
      );
    });
  });

  describe('import by path', () => {
    let name: string;

    before(async () => {
      name = await declare('imports', flightsSchema());
      writeFileSync(join(importRoot, 'flights.csv'), csv(flights(30)));
    });

    it('ingests a file inside an import folder', async () => {
      const response = await rest(ingestion.baseUrl, 'POST', `/v1/sources/${name}/imports`, { path: join(importRoot, 'flights.csv') });
      assert.equal(response.status, 201, JSON.stringify(response.body));
      assert.deepEqual([response.body.status, response.body.rowCount], ['CREATED', 30]);
      const version = await rest<{ origin: { kind: string; location: string } }>(ingestion.baseUrl, 'GET', `/v1/sources/${name}/versions/${String(response.body.versionId)}`);
      assert.deepEqual([version.body.origin.kind, version.body.origin.location], ['import', join(importRoot, 'flights.csv')]);
    });

    it('refuses paths outside the import folders, by traversal, link or glob', async () => {
      const outside = join(importRoot, '..', uniqueName('outside'));
      mkdirSync(outside, { recursive: true });
      writeFileSync(join(outside, 'secret.csv'), csv(flights(3)));
      symlinkSync(join(outside, 'secret.csv'), join(importRoot, 'link.csv'));
      for (const [path, error] of [
        [`${importRoot}/../${outside.split('/').pop()}/secret.csv`, /"\." or "\.\." segments/],
        [join(outside, 'secret.csv'), /outside the import folders/],
        [join(importRoot, 'link.csv'), /outside the import folders/],
        [join(importRoot, '*.csv'), /glob characters/],
        ['flights.csv', /absolute path/],
      ] as const) {
        const response = await rest(ingestion.baseUrl, 'POST', `/v1/sources/${name}/imports`, { path });
        assert.equal(response.status, 400, `${path}: ${JSON.stringify(response.body)}`);
        assert.match(String(response.body.error), error, path);
      }
    });
  });
});
