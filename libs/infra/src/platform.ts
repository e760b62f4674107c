import { ensureComponentRunning, stopComponent, type RunningComponent } from './component';
import { kafkaBrokers, kafkaComponent, kafkaHealthy, type KafkaSettings } from './kafka';
import { infrastructureLayout, type InfrastructureLayout } from './layout';
import { ensureDatabases, postgresComponent, postgresHealthy, type PostgresSettings } from './postgres';
import { isOurProcessAlive, readPidRecord, type PidRecord } from './processes';

export interface InfrastructureOptions {
  readonly dataDir: string;
  readonly cacheDir?: string;
  readonly host?: string;
  readonly kafka?: Partial<Omit<KafkaSettings, 'host'>>;
  readonly postgres?: Partial<Omit<PostgresSettings, 'host'>>;
  /** Databases to create when missing: one per service. */
  readonly databases?: readonly string[];
  readonly log?: (line: string) => void;
}

export interface RunningInfrastructure {
  readonly layout: InfrastructureLayout;
  readonly kafkaBrokers: string[];
  /** Connection URL of a database of the local PostgreSQL (superuser credentials). */
  postgresUrl(database: string): string;
  readonly components: { readonly kafka: RunningComponent; readonly postgres: RunningComponent };
}

export interface ComponentStatus {
  readonly name: string;
  readonly state: 'running' | 'unhealthy' | 'stopped' | 'crashed';
  readonly pid?: number;
  readonly endpoint?: string;
}

function settings(options: InfrastructureOptions) {
  const host = options.host ?? '127.0.0.1';
  const kafka: KafkaSettings = {
    host,
    port: options.kafka?.port ?? 9092,
    controllerPort: options.kafka?.controllerPort ?? 9093,
    heapMb: options.kafka?.heapMb ?? 512,
    defaultPartitions: options.kafka?.defaultPartitions ?? 3,
  };
  const postgres: PostgresSettings = { host, port: options.postgres?.port ?? 5432 };
  return { kafka, postgres };
}

/**
 * Starts (or reuses) Kafka and PostgreSQL for one data folder, in parallel, and resolves when
 * both pass their health checks. ClickHouse needs no process: it runs in-process through chDB
 * (see `createClickHouseClient`) or is a server given by URL.
 */
export async function startInfrastructure(options: InfrastructureOptions): Promise<RunningInfrastructure> {
  const log = options.log ?? (() => undefined);
  const layout = infrastructureLayout(options.dataDir, options.cacheDir);
  const configured = settings(options);
  const postgres = postgresComponent(layout, configured.postgres, log);
  const [kafka, postgresRunning] = await Promise.all([
    ensureComponentRunning(kafkaComponent(layout, configured.kafka, log), log),
    ensureComponentRunning(postgres.spec, log),
  ]);
  if (options.databases?.length) await ensureDatabases(postgres.url('postgres'), options.databases);
  return {
    layout,
    kafkaBrokers: kafkaBrokers(configured.kafka),
    postgresUrl: postgres.url,
    components: { kafka, postgres: postgresRunning },
  };
}

/** Stops Kafka first (it may still flush to nothing else, but consumers reconnect to it), then PostgreSQL. */
export async function stopInfrastructure(dataDir: string, log: (line: string) => void = () => undefined): Promise<void> {
  const layout = infrastructureLayout(dataDir);
  for (const [name, signal] of [['kafka', 'SIGTERM'], ['postgres', 'SIGINT']] as const) {
    const stopped = await stopComponent(layout.pidFile(name), signal, 30_000);
    if (stopped) log(`${name}: stopped (pid ${stopped.pid})`);
  }
}

export async function infrastructureStatus(options: InfrastructureOptions): Promise<ComponentStatus[]> {
  const layout = infrastructureLayout(options.dataDir, options.cacheDir);
  const configured = settings(options);
  const postgres = postgresComponent(layout, configured.postgres, () => undefined);
  const probes: Record<'kafka' | 'postgres', () => Promise<boolean>> = {
    kafka: () => kafkaHealthy(kafkaBrokers(configured.kafka)),
    postgres: () => postgresHealthy(postgres.url('postgres')),
  };
  return Promise.all(
    (['kafka', 'postgres'] as const).map((name) => componentStatus(name, readPidRecord(layout.pidFile(name)), probes[name])),
  );
}

export async function componentStatus(name: string, record: PidRecord | undefined, healthy: () => Promise<boolean>): Promise<ComponentStatus> {
  if (!record) return { name, state: 'stopped' };
  if (!isOurProcessAlive(record)) return { name, state: 'crashed', pid: record.pid, endpoint: record.endpoint };
  const ok = await healthy().catch(() => false);
  return { name, state: ok ? 'running' : 'unhealthy', pid: record.pid, endpoint: record.endpoint };
}
