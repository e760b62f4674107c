import { Module } from '@nestjs/common';

/**
 * Wiring of the training service (training jobs, trainers, hyper-parameter search and experiment
 * tracking). Its controllers, gRPC services and adapters are registered here as they are built;
 * health, metrics, OpenAPI and the infrastructure clients come from the service host.
 */
@Module({})
export class TrainingModule {}
