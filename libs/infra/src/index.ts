export { createClickHouseClient, type ClickHouseOptions } from './clickhouse';
export { ensureComponentRunning, stopComponent, type ComponentSpec, type RunningComponent } from './component';
export { InfrastructureError } from './errors';
export { kafkaHealthy, kafkaVersion } from './kafka';
export { defaultCacheDir, infrastructureLayout, type InfrastructureLayout } from './layout';
export { isPortFree } from './ports';
export { ensureDatabases, postgresHealthy } from './postgres';
export { isOurProcessAlive, processGroupMembers, readPidRecord, type PidRecord } from './processes';
export {
  componentStatus,
  infrastructureStatus,
  startInfrastructure,
  stopInfrastructure,
  type ComponentStatus,
  type InfrastructureOptions,
  type RunningInfrastructure,
} from './platform';
