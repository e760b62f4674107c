import { Module } from '@nestjs/common';

/**
 * Wiring of the registry service (registered models, immutable model versions, aliases and
 * lineage). Its controllers, gRPC services and adapters are registered here as they are built;
 * health, metrics, OpenAPI and the infrastructure clients come from the service host.
 */
@Module({})
export class RegistryModule {}
