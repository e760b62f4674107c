import { Module } from '@nestjs/common';

/**
 * Wiring of the feature-store service (entities, feature views, materialization into the offline
 * (ClickHouse) and online (Postgres) stores). Its controllers, gRPC services and adapters are
 * registered here as they are built; health, metrics, OpenAPI and the infrastructure clients come
 * from the service host.
 */
@Module({})
export class FeatureStoreModule {}
