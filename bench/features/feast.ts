// Feast's Python feature server as the peer: the same route features (50 doubles per route, the
// latest value per route of the same flights), a Postgres online store on the same PostgreSQL
// server, `feast apply`, `feast materialize`, `feast serve` with one worker. The virtual
// environment is installed once from requirements.txt (pinned) under the cache folder.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface FeastServer {
  readonly url: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

export function feastVenv(cacheDir = process.env.LOOPLINE_CACHE_DIR ?? join(homedir(), '.cache', 'loopline')): string {
  const venv = join(cacheDir, 'feast-venv');
  const feast = join(venv, 'bin', 'feast');
  if (!existsSync(feast)) {
    mkdirSync(cacheDir, { recursive: true });
    run('python3', ['-m', 'venv', venv]);
    run(join(venv, 'bin', 'pip'), ['install', '-q', '-r', join(__dirname, 'requirements.txt')]);
  }
  return venv;
}

function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const result = spawnSync(command, args, { cwd: options.cwd, env: options.env ?? process.env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`.slice(0, 4_000));
  return result.stdout;
}

export interface FeastRepoOptions {
  readonly folder: string;
  /** Parquet with route_id (`ORIGIN-DESTINATION`), event_timestamp and the features. */
  readonly parquet: string;
  readonly features: readonly string[];
  readonly postgres: { readonly host: string; readonly port: number; readonly database: string; readonly user: string; readonly password: string };
}

/** Writes the feature repository, applies it and materializes it; returns the seconds materialize took. */
export function prepareFeastRepo(venv: string, options: FeastRepoOptions): number {
  mkdirSync(join(options.folder, 'data'), { recursive: true });
  const pg = options.postgres;
  writeFileSync(
    join(options.folder, 'feature_store.yaml'),
    `project: loopline_bench
registry: data/registry.db
provider: local
online_store:
  type: postgres
  host: ${pg.host}
  port: ${pg.port}
  database: ${pg.database}
  db_schema: public
  user: ${pg.user}
  password: "${pg.password}"
  sslmode: disable
offline_store:
  type: file
entity_key_serialization_version: 3
`,
  );
  writeFileSync(
    join(options.folder, 'features.py'),
    `from datetime import timedelta
from feast import Entity, FeatureView, Field, FileSource, ValueType
from feast.types import Float64, String

# Feast 0.67 allows one join key per entity: the route is keyed "ORIGIN-DESTINATION".
route = Entity(name="route", join_keys=["route_id"], value_type=ValueType.STRING)
source = FileSource(path="${options.parquet}", timestamp_field="event_timestamp")
route_bench = FeatureView(
    name="route_bench",
    entities=[route],
    ttl=timedelta(days=36500),
    schema=[Field(name="route_id", dtype=String)] + [${options.features.map((name) => `Field(name="${name}", dtype=Float64)`).join(', ')}],
    online=True,
    source=source,
)
`,
  );
  const feast = join(venv, 'bin', 'feast');
  const env = { ...process.env, FEAST_USAGE: 'False', PATH: `${join(venv, 'bin')}:${process.env.PATH}` };
  run(feast, ['apply'], { cwd: options.folder, env });
  const started = performance.now();
  run(feast, ['materialize', '2000-01-01T00:00:00', '2002-01-01T00:00:00'], { cwd: options.folder, env });
  return (performance.now() - started) / 1000;
}

export async function startFeastServer(venv: string, folder: string, port: number, core: number): Promise<FeastServer> {
  const env = { ...process.env, FEAST_USAGE: 'False', PATH: `${join(venv, 'bin')}:${process.env.PATH}` };
  const child = spawn('taskset', ['-c', String(core), join(venv, 'bin', 'feast'), 'serve', '-h', '127.0.0.1', '-p', String(port), '--workers', '1'], { cwd: folder, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4_000);
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`feast serve exited with ${child.exitCode}:\n${stderr}`);
    try {
      const response = await fetch(`${url}/health`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`feast serve did not answer /health within 120 s:\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return {
    url,
    process: child,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((resolve) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          resolve(undefined);
        }, 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve(undefined);
        });
      });
    },
  };
}
