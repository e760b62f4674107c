import type { ServiceDefinition } from '@loopline/service-host';
import manifest from '../package.json';
import { loadConfig, type TrainingConfig } from './config';

/**
 * The training service as the service host runs it: `main.ts` boots it, tests start it in-process
 * with their own environment (`startService(trainingService(() => loadConfig(env)))`).
 */
export function trainingService(load: () => TrainingConfig = () => loadConfig()): ServiceDefinition<TrainingConfig> {
  return {
    manifest,
    loadConfig: load,
    dependencies: ['postgres', 'kafka'],
    loadModule: () => import('./training.module').then((m) => m.TrainingModule),
    grpc: { packages: ['loopline.training.v1'], protoFiles: ['loopline/training/v1/training_service.proto'] },
  };
}
