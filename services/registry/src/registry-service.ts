import type { ServiceDefinition } from '@loopline/service-host';
import manifest from '../package.json';
import { loadConfig, type RegistryConfig } from './config';

/**
 * The registry as the service host runs it: `main.ts` boots it, tests start it in-process with
 * their own environment (`startService(registryService(() => loadConfig(env)))`).
 */
export function registryService(load: () => RegistryConfig = () => loadConfig()): ServiceDefinition<RegistryConfig> {
  return {
    manifest,
    loadConfig: load,
    dependencies: ['postgres', 'kafka'],
    loadModule: () => import('./registry.module').then((m) => m.RegistryModule),
    grpc: { packages: ['loopline.registry.v1'], protoFiles: ['loopline/registry/v1/registry_service.proto'] },
  };
}
