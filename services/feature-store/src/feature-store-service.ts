import type { ServiceDefinition } from '@loopline/service-host';
import manifest from '../package.json';
import { loadConfig, type FeatureStoreConfig } from './config';

/**
 * The feature store as the service host runs it: `main.ts` boots it, tests start it in-process
 * with their own environment (`startService(featureStoreService(() => loadConfig(env)))`).
 */
export function featureStoreService(load: () => FeatureStoreConfig = () => loadConfig()): ServiceDefinition<FeatureStoreConfig> {
  return {
    manifest,
    loadConfig: load,
    dependencies: ['postgres', 'kafka', 'clickhouse'],
    loadModule: () => import('./feature-store.module').then((m) => m.FeatureStoreModule),
    grpc: { packages: ['loopline.featurestore.v1'], protoFiles: ['loopline/featurestore/v1/feature_serving.proto'] },
    // Online reads answer in microseconds; a span per read would cost more than the read.
    hotPaths: { httpPaths: ['/v1/online-features'], grpcMethods: ['loopline.featurestore.v1.FeatureServingService/GetOnlineFeatures'] },
  };
}
