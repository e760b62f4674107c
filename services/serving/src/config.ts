import { loadServiceConfig, type ServiceConfig } from '@loopline/config';

/** The serving service's configuration: the keys every service shares, for now. */
export type ServingConfig = ServiceConfig;

/** Read once at start; the only reader of `process.env` in this service. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServingConfig {
  return loadServiceConfig('serving', env);
}
