import { loadServiceConfig, type ServiceConfig } from '@loopline/config';

/** The ingestion service's configuration: the keys every service shares, for now. */
export type IngestionConfig = ServiceConfig;

/** Read once at start; the only reader of `process.env` in this service. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): IngestionConfig {
  return loadServiceConfig('ingestion', env);
}
