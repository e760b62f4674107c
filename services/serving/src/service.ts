import type { ServiceDefinition } from '@loopline/service-host';
import manifest from '../package.json';
import { loadConfig, type ServingConfig } from './config';

/**
 * The serving service as the service host runs it. Kafka is not among its readiness dependencies:
 * serving keeps answering through a Kafka outage and spools its prediction log to disk meanwhile
 * (docs/adr/0004); it opens its own Kafka clients.
 */
export const servingService: ServiceDefinition<ServingConfig> = {
  manifest,
  loadConfig: () => loadConfig(),
  dependencies: [],
  loadModule: () => import('./serving.module').then((m) => m.ServingModule),
  grpc: { packages: ['inference', 'loopline.serving.v1'], protoFiles: ['inference/grpc_predict_v2.proto', 'loopline/serving/v1/serving_service.proto'] },
};
