import type { ServiceDefinition } from '@loopline/service-host';
import manifest from '../package.json';
import { loadConfig, type IngestionConfig } from './config';

/**
 * The ingestion service as the service host runs it: `main.ts` boots it, tests start it
 * in-process with their own environment (`startService(ingestionService(() => loadConfig(env)))`).
 * ClickHouse is not a host dependency: the service runs its own chDB engine (see
 * docs/adr/0005-ingestion.md).
 */
export function ingestionService(load: () => IngestionConfig = () => loadConfig()): ServiceDefinition<IngestionConfig> {
  return {
    manifest,
    loadConfig: load,
    dependencies: ['postgres', 'kafka'],
    loadModule: () => import('./ingestion.module').then((m) => m.IngestionModule),
    grpc: { packages: ['loopline.ingestion.v1'], protoFiles: ['loopline/ingestion/v1/ingestion_service.proto'] },
  };
}
