import { loadServiceConfig, type ServiceConfig } from '@loopline/config';

/** The orchestration service's configuration: the keys every service shares, for now. */
export type OrchestrationConfig = ServiceConfig;

/** Read once at start; the only reader of `process.env` in this service. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): OrchestrationConfig {
  return loadServiceConfig('orchestration', env);
}
