import { Module } from '@nestjs/common';

/**
 * Wiring of the serving service (serving what the registry promotes; it owns nothing durable,
 * hence no Postgres). Its controllers, gRPC services and adapters are registered here as they are
 * built; health, metrics, OpenAPI and the infrastructure clients come from the service host.
 */
@Module({})
export class ServingModule {}
