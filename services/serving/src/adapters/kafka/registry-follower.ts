import { isEvent, ModelVersionAliasRemovedSchema, ModelVersionAliasSetSchema } from '@loopline/contracts';
import { subscribeToEvents, type Subscription } from '@loopline/messaging';
import type { Logger } from '@loopline/telemetry';
import type { Kafka } from 'kafkajs';
import type { ModelManager } from '../../application/model-manager';

export const modelVersionsTopic = 'loopline.registry.model-versions.v1';

export interface RegistryFollowerOptions {
  readonly kafka: Kafka;
  readonly manager: ModelManager;
  readonly logger: Logger;
  /** Unique per instance: every replica must see every alias move (a broadcast, not a work queue). */
  readonly groupId: string;
}

/**
 * Follows alias moves on `loopline.registry.model-versions.v1`. Each serving instance reads the
 * whole topic in a consumer group of its own, from the end (the initial load reads the current
 * aliases from the registry's REST API; the subscription starts before that read, so no move falls
 * in between). The handler only queues the load: a load never holds up the consumer, and loads of
 * one model stay in order in the model manager.
 */
export async function followRegistry(options: RegistryFollowerOptions): Promise<Subscription> {
  const { manager, logger } = options;
  return subscribeToEvents(options.kafka, {
    groupId: options.groupId,
    topics: [modelVersionsTopic],
    fromBeginning: false,
    logger,
    maxAttempts: 1,
    handle: async (event) => {
      if (isEvent(event, ModelVersionAliasSetSchema)) {
        const { modelName, alias, modelVersion } = event.message;
        logger.info({ model: modelName, alias, version: modelVersion }, `registry: ${modelName}@${alias} → version ${modelVersion}`);
        void manager.setAlias(modelName, alias, modelVersion);
      } else if (isEvent(event, ModelVersionAliasRemovedSchema)) {
        const { modelName, alias } = event.message;
        logger.info({ model: modelName, alias }, `registry: ${modelName}@${alias} removed`);
        void manager.removeAlias(modelName, alias);
      }
    },
  });
}
