import { serviceNames, type PlatformConfig } from '@loopline/config';
import {
  componentStatus,
  ensureComponentRunning,
  infrastructureLayout,
  infrastructureStatus,
  readPidRecord,
  startInfrastructure,
  stopComponent,
  stopInfrastructure,
  type ComponentStatus,
} from '@loopline/infra';
import { serviceComponent, serviceDatabase, servicePorts, serviceReady } from './service-processes';

export interface StartedPlatform {
  readonly kafkaBrokers: string[];
  readonly endpoints: readonly { name: string; endpoint: string; reused: boolean }[];
  readonly logFiles: readonly { name: string; file: string }[];
}

function infrastructureOptions(config: PlatformConfig, log?: (line: string) => void) {
  return {
    dataDir: config.dataDir,
    cacheDir: config.cacheDir,
    host: config.host,
    kafka: { port: config.kafkaPort, controllerPort: config.kafkaControllerPort, heapMb: config.kafkaHeapMb },
    postgres: { port: config.postgresPort },
    databases: serviceNames.map(serviceDatabase),
    log,
  };
}

/**
 * Brings the whole local platform up: Kafka and PostgreSQL first (ClickHouse runs in-process
 * inside the services that use it, through chDB), then the seven services in parallel. Whatever
 * already runs healthy is reused, so running it twice is harmless.
 */
export async function startPlatform(config: PlatformConfig, env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<StartedPlatform> {
  const infra = await startInfrastructure(infrastructureOptions(config, log));
  log(`infrastructure ready: Kafka ${infra.kafkaBrokers.join(',')}, PostgreSQL ${infra.components.postgres.record.endpoint}`);
  const services = await Promise.all(
    serviceNames.map(async (service) => {
      const spec = serviceComponent(service, infra.layout, config, {
        kafkaBrokers: infra.kafkaBrokers,
        postgresUrl: infra.postgresUrl(serviceDatabase(service)),
      }, env);
      const running = await ensureComponentRunning(spec, log);
      return { name: service, endpoint: spec.endpoint, reused: running.reused, file: spec.logFile };
    }),
  );
  return {
    kafkaBrokers: infra.kafkaBrokers,
    endpoints: [
      { name: 'kafka', endpoint: infra.components.kafka.record.endpoint, reused: infra.components.kafka.reused },
      { name: 'postgres', endpoint: infra.components.postgres.record.endpoint, reused: infra.components.postgres.reused },
      ...services.map(({ name, endpoint, reused }) => ({ name, endpoint, reused })),
    ],
    logFiles: services.map(({ name, file }) => ({ name, file })),
  };
}

/** Stops the services first (they flush to Kafka and PostgreSQL), then the infrastructure. */
export async function stopPlatform(config: PlatformConfig, log: (line: string) => void): Promise<void> {
  const layout = infrastructureLayout(config.dataDir, config.cacheDir);
  await Promise.all(
    serviceNames.map(async (service) => {
      const stopped = await stopComponent(layout.pidFile(service), 'SIGTERM', 15_000);
      if (stopped) log(`${service}: stopped (pid ${stopped.pid})`);
    }),
  );
  await stopInfrastructure(config.dataDir, log);
}

export async function platformStatus(config: PlatformConfig, env: NodeJS.ProcessEnv): Promise<ComponentStatus[]> {
  const layout = infrastructureLayout(config.dataDir, config.cacheDir);
  const infrastructure = await infrastructureStatus(infrastructureOptions(config));
  const services = await Promise.all(
    serviceNames.map((service) =>
      componentStatus(service, readPidRecord(layout.pidFile(service)), () => serviceReady(config.host, servicePorts(service, env).http)),
    ),
  );
  return [...infrastructure, ...services];
}
