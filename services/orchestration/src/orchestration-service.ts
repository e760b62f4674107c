import type { ServiceDefinition } from '@loopline/service-host';
import manifest from '../package.json';
import { loadConfig, type OrchestrationConfig } from './config';

/**
 * Orchestration as the service host runs it: `main.ts` boots it, tests start it in-process with
 * their own environment (`startService(orchestrationService(() => loadConfig(env)))`).
 */
export function orchestrationService(load: () => OrchestrationConfig = () => loadConfig()): ServiceDefinition<OrchestrationConfig> {
  return {
    manifest,
    loadConfig: load,
    dependencies: ['postgres', 'kafka'],
    loadModule: () => import('./orchestration.module').then((m) => m.OrchestrationModule),
    grpc: { packages: ['loopline.orchestration.v1'], protoFiles: ['loopline/orchestration/v1/orchestration_service.proto'] },
  };
}
