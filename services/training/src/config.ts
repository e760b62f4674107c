import { loadServiceConfig, type ServiceConfig } from '@loopline/config';

/** The training service's configuration: the keys every service shares, for now. */
export type TrainingConfig = ServiceConfig;

/** Read once at start; the only reader of `process.env` in this service. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): TrainingConfig {
  return loadServiceConfig('training', env);
}
