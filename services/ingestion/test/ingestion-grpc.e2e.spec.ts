/**
 * `loopline.ingestion.v1.Ingestion` over gRPC, in-process on the run's real PostgreSQL and Kafka:
 * declare a source, stream a CSV file in chunks, read the version back, and map errors to
 * statuses. Real: everything.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import { createTestDatabase, freePort, testInfra, uniqueName } from '@loopline/testing';
import { grpcClient, startIngestion, unary, uploadOverGrpc, type IngestionClient, type IngestionUnderTest } from './ingestion-harness';

const csv = `date,delay,origin\n${Array.from({ length: 50 }, (_, i) => `2001-03-${String(1 + (i % 28)).padStart(2, '0')} 10:00:00,${i % 30},${['ATL', 'ORD'][i % 2]}`).join('\n')}\n`;

describe('ingestion gRPC API', () => {
  let ingestion: IngestionUnderTest;
  let client: IngestionClient;
  const source = uniqueName('grpc').replace(/_/g, '-');

  before(async () => {
    const infra = testInfra();
    ingestion = await startIngestion({
      postgresUrl: await createTestDatabase('ingestion_grpc'),
      kafkaBrokers: infra.kafkaBrokers,
      dataDir: join(infra.dataDir, uniqueName('ingestion_grpc')),
      grpcPort: await freePort(),
    });
    client = grpcClient(ingestion.grpcAddress);
  });

  after(async () => {
    client?.close();
    await ingestion?.stop();
  });

  it('declares a source with its schema and policy', async () => {
    const response = await unary<{ source: { schemaVersion: number; columns: { name: string; type: string; max: string }[]; policy: { range: string } }; changed: boolean }>(
      client,
      'PutSource',
      {
        name: source,
        columns: [
          { name: 'date', type: 'COLUMN_TYPE_TIMESTAMP', nullable: false },
          { name: 'delay', type: 'COLUMN_TYPE_INT64', nullable: true, min: '-60', max: '600' },
          { name: 'origin', type: 'COLUMN_TYPE_STRING', nullable: false, categories: ['ATL', 'ORD'] },
        ],
        eventTimeColumn: 'date',
        entityColumns: ['origin'],
        policy: { categories: 'RULE_SEVERITY_ERROR', maxNullRate: 0.5 },
      },
    );
    assert.equal(response.changed, true);
    assert.equal(response.source.schemaVersion, 1);
    assert.deepEqual(response.source.columns.map((column) => [column.name, column.type]), [
      ['date', 'COLUMN_TYPE_TIMESTAMP'],
      ['delay', 'COLUMN_TYPE_INT64'],
      ['origin', 'COLUMN_TYPE_STRING'],
    ]);
    assert.equal(response.source.columns[1]!.max, '600');
    assert.equal(response.source.policy.range, 'RULE_SEVERITY_ERROR');
  });

  it('ingests a file streamed in chunks, and serves the version', async () => {
    const uploaded = await uploadOverGrpc<{ result: { status: string; versionId: string; rowCount: string } }>(
      client,
      { sourceName: source, format: 'INPUT_FORMAT_CSV' },
      Buffer.from(csv),
      300,
    );
    assert.deepEqual([uploaded.result.status, uploaded.result.rowCount], ['INGESTION_STATUS_CREATED', '50']);
    const read = await unary<{ version: { versionId: string; status: string; columns: { name: string }[]; eventTimeColumn: string } }>(client, 'GetDatasetVersion', {
      sourceName: source,
      versionId: uploaded.result.versionId,
    });
    assert.deepEqual([read.version.versionId, read.version.status, read.version.eventTimeColumn], [uploaded.result.versionId, 'INGESTION_STATUS_CREATED', 'date']);
    const listed = await unary<{ versions: unknown[] }>(client, 'ListDatasetVersions', { sourceName: source });
    assert.equal(listed.versions.length, 1);
    const again = await uploadOverGrpc<{ result: { status: string; versionId: string } }>(client, { sourceName: source, format: 'INPUT_FORMAT_CSV' }, Buffer.from(csv));
    assert.deepEqual([again.result.status, again.result.versionId], ['INGESTION_STATUS_UNCHANGED', uploaded.result.versionId]);
  });

  it('maps errors to statuses: NOT_FOUND, INVALID_ARGUMENT with the details', async () => {
    await assert.rejects(unary(client, 'GetSource', { name: uniqueName('nobody').replace(/_/g, '-') }), (error: ServiceError) => error.code === status.NOT_FOUND);
    await assert.rejects(
      uploadOverGrpc(client, { sourceName: source, format: 'INPUT_FORMAT_PARQUET' }, Buffer.from(csv)),
      (error: ServiceError) => error.code === status.INVALID_ARGUMENT && /not a readable Parquet file/.test(error.details),
    );
    await assert.rejects(
      unary(client, 'ImportDataset', { sourceName: source, path: '/etc/passwd', format: 'INPUT_FORMAT_CSV' }),
      (error: ServiceError) => error.code === status.INVALID_ARGUMENT && /imports by path are disabled/.test(error.details),
    );
  });
});
