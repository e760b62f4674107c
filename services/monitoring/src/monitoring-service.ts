import type { ServiceDefinition } from '@loopline/service-host';
import manifest from '../package.json';
import { loadConfig, type MonitoringConfig } from './config';

/**
 * The monitoring service as the service host runs it: `main.ts` boots it, tests start it
 * in-process with their own environment (`startService(monitoringService(() => loadConfig(env)))`).
 */
export function monitoringService(load: () => MonitoringConfig = () => loadConfig()): ServiceDefinition<MonitoringConfig> {
  return {
    manifest,
    loadConfig: load,
    dependencies: ['postgres', 'kafka', 'clickhouse'],
    loadModule: () => import('./monitoring.module').then((m) => m.MonitoringModule),
    grpc: { packages: ['loopline.monitoring.v1'], protoFiles: ['loopline/monitoring/v1/monitoring_service.proto'] },
  };
}
