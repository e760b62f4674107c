import type { HostConfig } from '../host-config';
import type { Logger } from '@loopline/telemetry';
import type { ReadinessCheck } from '../readiness/readiness';
import type { ShutdownStep } from '../shutdown/shutdown';
import type { Infrastructure } from '../tokens';
import { openClickHouse } from './clickhouse';
import type { Dependency, OpenedDependency } from './dependency';
import { openKafka } from './kafka';
import { openPostgres } from './postgres';

export interface OpenedInfrastructure {
  readonly clients: Infrastructure;
  readonly checks: readonly ReadinessCheck[];
  /** In the order the clients should close. */
  readonly closeSteps: readonly ShutdownStep[];
}

/** Creates the clients of the declared dependencies. Nothing connects yet: the first readiness check does. */
export function openInfrastructure(config: HostConfig, dependencies: readonly Dependency[], logger: Logger): OpenedInfrastructure {
  const wants = (dependency: Dependency) => dependencies.includes(dependency);
  const postgres = wants('postgres') ? openPostgres(config, logger) : undefined;
  const kafka = wants('kafka') ? openKafka(config, logger) : undefined;
  const clickhouse = wants('clickhouse') ? openClickHouse(config) : undefined;
  const opened: OpenedDependency<unknown>[] = [postgres, kafka, clickhouse].filter((d) => d !== undefined);
  return {
    clients: { postgres: postgres?.client, kafka: kafka?.client, clickhouse: clickhouse?.client },
    checks: opened.map((dependency) => dependency.check),
    closeSteps: opened.flatMap((dependency) => (dependency.close ? [dependency.close] : [])),
  };
}
