import { InfrastructureError } from './errors';
import { isPortFreeWithin } from './ports';
import {
  isOurProcessAlive,
  readPidRecord,
  removePidRecord,
  spawnManaged,
  stopProcessGroup,
  waitUntilHealthy,
  type PidRecord,
  type SpawnOptions,
} from './processes';

/** One long-running process of the local platform: a broker, a database or a service. */
export interface ComponentSpec {
  readonly name: string;
  readonly pidFile: string;
  readonly logFile: string;
  readonly marker: string;
  readonly endpoint: string;
  /** Host and ports it binds; checked free before a fresh start so the error names the port. */
  readonly host: string;
  readonly ports: readonly { readonly port: number; readonly setting: string }[];
  readonly startTimeoutMs: number;
  /** The signal that asks it to shut down cleanly, and how long it may take. */
  readonly stopSignal: NodeJS.Signals;
  readonly stopGraceMs: number;
  healthy(): Promise<boolean>;
  /** One-time work before spawning: fetch, initialise storage. Runs only on a fresh start. */
  prepare?(): Promise<void>;
  spawnOptions(): Omit<SpawnOptions, 'name' | 'logFile' | 'pidFile' | 'marker' | 'endpoint'>;
}

export interface RunningComponent {
  readonly record: PidRecord;
  /** True when it was already running and healthy, so this call reused it. */
  readonly reused: boolean;
}

/**
 * Starts a component unless it already runs. Idempotent: a live, healthy process recorded in the
 * pid file is reused; a live but hung one is stopped and replaced; a pid file left by a crash is
 * discarded. Resolves only once the component answers its real health check.
 */
export async function ensureComponentRunning(spec: ComponentSpec, log: (line: string) => void): Promise<RunningComponent> {
  const existing = readPidRecord(spec.pidFile);
  if (existing && isOurProcessAlive(existing)) {
    try {
      await waitUntilHealthy(spec.name, () => spec.healthy(), { timeoutMs: spec.startTimeoutMs, alive: () => isOurProcessAlive(existing) });
      log(`${spec.name}: already running (pid ${existing.pid}), reusing it`);
      return { record: existing, reused: true };
    } catch {
      log(`${spec.name}: pid ${existing.pid} is running but not healthy; restarting it`);
      await stopProcessGroup(existing, spec.stopSignal, spec.stopGraceMs);
    }
  }
  if (existing) removePidRecord(spec.pidFile);

  for (const { port, setting } of spec.ports) {
    // A process that just died may hold its sockets a moment longer; give it that moment.
    if (!(await isPortFreeWithin(spec.host, port, 5_000))) {
      throw new InfrastructureError(
        'PORT_IN_USE',
        `${spec.name} cannot start: ${spec.host}:${port} is already in use by another program. Stop it, or choose another port with ${setting}.`,
      );
    }
  }
  await spec.prepare?.();
  const record = spawnManaged({
    ...spec.spawnOptions(),
    name: spec.name,
    logFile: spec.logFile,
    pidFile: spec.pidFile,
    marker: spec.marker,
    endpoint: spec.endpoint,
  });
  log(`${spec.name}: started (pid ${record.pid}), waiting until healthy`);
  await waitUntilHealthy(spec.name, () => spec.healthy(), {
    timeoutMs: spec.startTimeoutMs,
    alive: () => isOurProcessAlive(record),
    logFile: spec.logFile,
  });
  return { record, reused: false };
}

/** Stops the component recorded in `pidFile`, if any, and forgets it. */
export async function stopComponent(pidFile: string, signal: NodeJS.Signals, graceMs: number): Promise<PidRecord | undefined> {
  const record = readPidRecord(pidFile);
  if (!record) return undefined;
  await stopProcessGroup(record, signal, graceMs);
  removePidRecord(pidFile);
  return record;
}
