import { bootstrapService } from '@loopline/service-host';
import manifest from '../package.json';
import { loadConfig } from './config';

void bootstrapService({
  manifest,
  loadConfig,
  dependencies: ['kafka'],
  loadModule: () => import('./serving.module').then((m) => m.ServingModule),
});
