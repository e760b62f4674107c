import { Module } from '@nestjs/common';

/**
 * Wiring of the monitoring service (prediction logs and labels in ClickHouse, monitors and their
 * alerts). Its controllers, gRPC services and adapters are registered here as they are built;
 * health, metrics, OpenAPI and the infrastructure clients come from the service host.
 */
@Module({})
export class MonitoringModule {}
