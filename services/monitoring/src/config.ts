import { loadServiceConfig, type ServiceConfig } from '@loopline/config';

/** The monitoring service's configuration: the keys every service shares, for now. */
export type MonitoringConfig = ServiceConfig;

/** Read once at start; the only reader of `process.env` in this service. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): MonitoringConfig {
  return loadServiceConfig('monitoring', env);
}
