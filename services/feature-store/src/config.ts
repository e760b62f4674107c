import { loadServiceConfig, type ServiceConfig } from '@loopline/config';

/** The feature-store service's configuration: the keys every service shares, for now. */
export type FeatureStoreConfig = ServiceConfig;

/** Read once at start; the only reader of `process.env` in this service. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): FeatureStoreConfig {
  return loadServiceConfig('feature-store', env);
}
