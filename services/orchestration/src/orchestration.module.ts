import { Module } from '@nestjs/common';

/**
 * Wiring of the orchestration service (pipeline definitions, schedules, triggers and pipeline
 * runs). Its controllers, gRPC services and adapters are registered here as they are built;
 * health, metrics, OpenAPI and the infrastructure clients come from the service host.
 */
@Module({})
export class OrchestrationModule {}
