import { Module } from '@nestjs/common';

/**
 * Wiring of the ingestion service (data sources, their schemas, immutable dataset versions and
 * validation reports). Its controllers, gRPC services and adapters are registered here as they are
 * built; health, metrics, OpenAPI and the infrastructure clients come from the service host.
 */
@Module({})
export class IngestionModule {}
