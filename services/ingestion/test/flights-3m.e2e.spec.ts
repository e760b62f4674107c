/**
 * The 3-million-row `flights-3m.parquet` of the `vega-datasets` package, uploaded over REST as a
 * stream to the service running in this process, ingests with memory bounded and progress
 * reported. The bound is on this whole process (test, service, chDB engine): its peak resident
 * set stays under `peakRssLimitMiB` (1.25 GiB), with the engine's per-query limit at 256 MiB.
 * What keeps it there: the upload streams to disk, rows never enter JavaScript, and the engine's
 * sort and aggregations spill to disk above half their limit.
 */
import assert from 'node:assert/strict';
import { createReadStream, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, freePort, testInfra, uniqueName } from '@loopline/testing';
import { rest, startIngestion, upload, type IngestionUnderTest } from './ingestion-harness';

// The package exports only its JS entry (build/index.js); the data folder sits beside build/.
const flightsFile = join(dirname(require.resolve('vega-datasets')), '..', 'data', 'flights-3m.parquet');
/** The engine's per-query memory limit for this test: half the default, to show the spill works. */
const engineMemoryMiB = 256;
/** Measured at about 0.9 GiB on a 2-core machine; the margin absorbs allocator noise. */
const peakRssLimitMiB = 1_280;

describe('flights-3m.parquet', () => {
  let ingestion: IngestionUnderTest;

  before(async () => {
    const infra = testInfra();
    ingestion = await startIngestion({
      postgresUrl: await createTestDatabase('ingestion_3m'),
      kafkaBrokers: infra.kafkaBrokers,
      dataDir: join(infra.dataDir, uniqueName('ingestion_3m')),
      grpcPort: await freePort(),
      env: { LOOPLINE_INGESTION_MAX_MEMORY_MB: String(engineMemoryMiB) },
    });
  });

  after(async () => {
    await ingestion?.stop();
  });

  it(`ingests 3,000,000 rows with peak RSS under ${peakRssLimitMiB} MiB, reporting progress`, { timeout: 120_000 }, async () => {
    const source = uniqueName('flights').replace(/_/g, '-');
    const declared = await rest(ingestion.baseUrl, 'PUT', `/v1/sources/${source}`, {
      columns: [
        { name: 'date', type: 'timestamp', nullable: false },
        { name: 'delay', type: 'int64', nullable: true, min: -1440, max: 2880 },
        { name: 'distance', type: 'int64', nullable: false, min: 0 },
        { name: 'origin', type: 'string', nullable: false },
        { name: 'destination', type: 'string', nullable: false },
      ],
      eventTimeColumn: 'date',
      entityColumns: ['origin', 'destination'],
    });
    assert.equal(declared.status, 201, JSON.stringify(declared.body));

    const ingestionId = uniqueName('flights-3m');
    const phases: string[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const progress = await rest(ingestion.baseUrl, 'GET', `/v1/ingestions/${ingestionId}`);
        const phase = progress.status === 200 ? String(progress.body.phase) : 'unknown';
        if (phases.at(-1) !== phase) phases.push(phase);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();

    const started = Date.now();
    const body = Readable.toWeb(createReadStream(flightsFile, { highWaterMark: 1024 * 1024 })) as ReadableStream<Uint8Array>;
    const response = await upload(ingestion.baseUrl, source, body, 'parquet', { 'x-loopline-ingestion-id': ingestionId });
    const seconds = (Date.now() - started) / 1000;
    polling = false;
    await poller;

    assert.equal(response.status, 201, JSON.stringify(response.body));
    assert.equal(response.body.status, 'CREATED', JSON.stringify(response.body.report));
    assert.equal(response.body.rowCount, 3_000_000);
    const version = response.body.version as { eventTimeRange: { start: string; end: string }; artifact: { sizeBytes: number } };
    assert.deepEqual(version.eventTimeRange, { start: '2001-01-01T00:01:00.000Z', end: '2001-07-01T00:00:00.000Z' });

    // Progress: the final view, and at least one phase between queued and done seen while it ran.
    const final = await rest(ingestion.baseUrl, 'GET', `/v1/ingestions/${ingestionId}`);
    assert.deepEqual([final.body.phase, final.body.rowCount, final.body.bytesReceived], ['done', 3_000_000, statSync(flightsFile).size]);
    assert.ok(
      phases.some((phase) => ['receiving', 'parsing', 'profiling', 'writing', 'storing', 'recording'].includes(phase)),
      `progress seen while ingesting: ${phases.join(' → ')}`,
    );

    const peakRssMiB = process.resourceUsage().maxRSS / 1024;
    console.log(`flights-3m: ${seconds.toFixed(1)} s, ${Math.round(3_000_000 / seconds)} rows/s, peak RSS ${Math.round(peakRssMiB)} MiB, phases ${phases.join(' → ')}`);
    assert.ok(peakRssMiB < peakRssLimitMiB, `peak RSS ${Math.round(peakRssMiB)} MiB exceeds ${peakRssLimitMiB} MiB`);
  });
});
