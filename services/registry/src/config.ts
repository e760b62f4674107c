import { loadServiceConfig, type ServiceConfig } from '@loopline/config';

/** The registry service's configuration: the keys every service shares, for now. */
export type RegistryConfig = ServiceConfig;

/** Read once at start; the only reader of `process.env` in this service. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): RegistryConfig {
  return loadServiceConfig('registry', env);
}
