import { bootstrapService } from '@loopline/service-host';
import manifest from '../package.json';
import { loadConfig } from './config';

void bootstrapService({
  manifest,
  loadConfig,
  dependencies: ['postgres', 'kafka', 'clickhouse'],
  loadModule: () => import('./feature-store.module').then((m) => m.FeatureStoreModule),
});
