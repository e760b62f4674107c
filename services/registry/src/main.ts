import { bootstrapService } from '@loopline/service-host';
import manifest from '../package.json';
import { loadConfig } from './config';

void bootstrapService({
  manifest,
  loadConfig,
  dependencies: ['postgres', 'kafka'],
  loadModule: () => import('./registry.module').then((m) => m.RegistryModule),
});
