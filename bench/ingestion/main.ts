/**
 * Ingestion benchmark (`npm run bench:ingestion`): ingest + validate + store the 3,000,000-row
 * `flights-3m.parquet` of the `vega-datasets` package through the ingestion service, running in
 * this process on its own Kafka and PostgreSQL (started in a temporary folder on free ports).
 * Figures only: nothing is asserted, and CI never gates on them (CONVENTIONS.md). Goal (issue 4):
 * the whole file in ≤ 15 s on 2 cores.
 *
 * Measured: a streamed REST upload (what a client does), an import by path (the same pipeline
 * without HTTP), and the same upload again (UNCHANGED: parsed and hashed, nothing stored), each
 * with wall time, rows/s and the time spent in each phase; the process's peak RSS at the end.
 */
import { chmodSync, copyFileSync, createReadStream, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { startInfrastructure, stopInfrastructure } from '@loopline/infra';
import { startService } from '@loopline/service-host';
import { loadConfig } from '../../services/ingestion/src/config';
import { ingestionService } from '../../services/ingestion/src/ingestion-service';

const rows = 3_000_000;
const flightsFile = join(dirname(require.resolve('vega-datasets')), '..', 'data', 'flights-3m.parquet');
const schema = {
  columns: [
    { name: 'date', type: 'timestamp', nullable: false },
    { name: 'delay', type: 'int64', nullable: true, min: -1440, max: 2880 },
    { name: 'distance', type: 'int64', nullable: false, min: 0 },
    { name: 'origin', type: 'string', nullable: false },
    { name: 'destination', type: 'string', nullable: false },
  ],
  eventTimeColumn: 'date',
  entityColumns: ['origin', 'destination'],
};

interface Run {
  readonly name: string;
  readonly status: string;
  readonly seconds: number;
  readonly phases: Readonly<Record<string, number>>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function json(response: Response): Promise<Record<string, unknown>> {
  const body = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${response.status}: ${JSON.stringify(body)}`);
  return body;
}

/** Runs one ingestion while polling its progress; returns the wall time and the time per phase. */
async function measure(name: string, baseUrl: string, ingestionId: string, start: () => Promise<Response>): Promise<Run> {
  const phases: Record<string, number> = {};
  let current = 'queued';
  let since = performance.now();
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const response = await fetch(`${baseUrl}/v1/ingestions/${ingestionId}`);
      if (response.ok) {
        const phase = String(((await response.json()) as { phase: string }).phase);
        if (phase !== current) {
          const now = performance.now();
          phases[current] = (phases[current] ?? 0) + (now - since) / 1000;
          current = phase;
          since = now;
        }
      } else {
        await response.arrayBuffer();
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  const started = performance.now();
  const body = await json(await start());
  const seconds = (performance.now() - started) / 1000;
  polling = false;
  await poller;
  phases[current] = (phases[current] ?? 0) + (performance.now() - since) / 1000;
  delete phases.done;
  return { name, status: String(body.status), seconds, phases };
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'loopline-bench-ingestion-'));
  chmodSync(dataDir, 0o755);
  const stop = async () => {
    await stopInfrastructure(dataDir, (line) => console.log(`  [infra] ${line}`));
    rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void stop().finally(() => process.exit(130)));
  console.log(`▶ starting Kafka and PostgreSQL in ${dataDir}`);
  const infra = await startInfrastructure({
    dataDir,
    kafka: { port: await freePort(), controllerPort: await freePort() },
    postgres: { port: await freePort() },
    databases: ['ingestion_bench'],
    log: (line) => console.log(`  [infra] ${line}`),
  });
  const importRoot = join(dataDir, 'imports');
  mkdirSync(importRoot, { recursive: true });
  const importedFile = join(importRoot, 'flights-3m.parquet');
  // A copy inside the import folder (a link out of it would be refused).
  copyFileSync(flightsFile, importedFile);
  const env = {
    LOOPLINE_HOST: '127.0.0.1',
    LOOPLINE_INGESTION_HTTP_PORT: '0',
    LOOPLINE_INGESTION_GRPC_PORT: String(await freePort()),
    LOOPLINE_POSTGRES_URL: infra.postgresUrl('ingestion_bench'),
    LOOPLINE_KAFKA_BROKERS: infra.kafkaBrokers.join(','),
    LOOPLINE_DATA_DIR: join(dataDir, 'service'),
    LOOPLINE_LOG_LEVEL: 'warn',
    LOOPLINE_INGESTION_IMPORT_ROOTS: importRoot,
  };
  const service = await startService(ingestionService(() => loadConfig(env)));
  const baseUrl = service.httpUrl;
  const runs: Run[] = [];
  try {
    for (const source of ['flights-upload', 'flights-import']) {
      await json(await fetch(`${baseUrl}/v1/sources/${source}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(schema) }));
    }
    const uploadOnce = (id: string) => () =>
      fetch(`${baseUrl}/v1/sources/flights-upload/uploads?format=parquet`, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.apache.parquet', 'x-loopline-ingestion-id': id },
        body: Readable.toWeb(createReadStream(flightsFile, { highWaterMark: 1024 * 1024 })) as ReadableStream<Uint8Array>,
        duplex: 'half',
      } as Parameters<typeof fetch>[1]);
    console.log('▶ REST upload (streamed)');
    runs.push(await measure('REST upload', baseUrl, 'bench-upload', uploadOnce('bench-upload')));
    console.log('▶ import by path');
    runs.push(
      await measure('import by path', baseUrl, 'bench-import', () =>
        fetch(`${baseUrl}/v1/sources/flights-import/imports`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-loopline-ingestion-id': 'bench-import' },
          body: JSON.stringify({ path: importedFile }),
        }),
      ),
    );
    console.log('▶ REST upload of the same file again');
    runs.push(await measure('same upload again', baseUrl, 'bench-again', uploadOnce('bench-again')));
  } finally {
    await service.stop();
    await stop();
  }
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;
  const phaseNames = ['receiving', 'queued', 'parsing', 'profiling', 'writing', 'storing', 'recording'];
  console.log(`\nIngest + validate + store flights-3m.parquet (${(statSync(flightsFile).size / 1024 / 1024).toFixed(1)} MiB, ${rows.toLocaleString('en')} rows)`);
  console.log(`conditions: ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), ${(totalmem() / 1024 ** 3).toFixed(0)} GiB RAM, chDB engine: 2 threads, 512 MiB per query; service in this process`);
  const header = ['run', 'status', 'wall s', 'rows/s', ...phaseNames.map((phase) => `${phase} s`)];
  const table = runs.map((run) => [
    run.name,
    run.status,
    run.seconds.toFixed(2),
    Math.round(rows / run.seconds).toLocaleString('en'),
    ...phaseNames.map((phase) => (run.phases[phase] ?? 0).toFixed(2)),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...table.map((row) => row[column]!.length)));
  const line = (cells: readonly string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  console.log(line(header));
  console.log(line(widths.map((width) => '-'.repeat(width))));
  for (const row of table) console.log(line(row));
  console.log(`peak RSS of this process (service + chDB engine + benchmark): ${Math.round(peakRssMiB)} MiB`);
  console.log('goal: the whole file in ≤ 15 s on 2 cores');
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
