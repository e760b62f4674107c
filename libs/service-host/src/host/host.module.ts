import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { HostConfig } from '../host-config';
import type { Logger, ServiceMetrics } from '@loopline/telemetry';
import { ReadinessMonitor } from '../readiness/readiness-monitor';
import { INFRASTRUCTURE, SERVICE_CONFIG, SERVICE_LOGGER, SERVICE_METRICS, type Infrastructure } from '../tokens';
import { GrpcHealthController, HEALTH_SERVICE_NAMES } from './grpc-health.controller';
import { HealthController } from './health.controller';
import { MetricsController } from './metrics.controller';
import { OpenApiController } from './openapi.controller';
import { OpenApiDocument } from './openapi-document';

export interface HostModuleOptions {
  readonly config: HostConfig;
  readonly logger: Logger;
  readonly metrics: ServiceMetrics;
  readonly readiness: ReadinessMonitor;
  readonly infrastructure: Infrastructure;
}

/**
 * What every service gets from the host: health (HTTP and gRPC), metrics, the OpenAPI document,
 * and, for its own providers, the config, logger, metrics, readiness and infrastructure clients.
 * Global so a service module injects them without importing anything.
 */
@Global()
@Module({})
export class HostModule {
  static forRoot(options: HostModuleOptions): DynamicModule {
    const providers = [
      { provide: SERVICE_CONFIG, useValue: options.config },
      { provide: SERVICE_LOGGER, useValue: options.logger },
      { provide: SERVICE_METRICS, useValue: options.metrics },
      { provide: INFRASTRUCTURE, useValue: options.infrastructure },
      { provide: ReadinessMonitor, useValue: options.readiness },
      { provide: HEALTH_SERVICE_NAMES, useValue: ['', `loopline.${options.config.service}`] },
      OpenApiDocument,
    ];
    return {
      module: HostModule,
      controllers: [HealthController, MetricsController, OpenApiController, GrpcHealthController],
      providers,
      exports: [SERVICE_CONFIG, SERVICE_LOGGER, SERVICE_METRICS, INFRASTRUCTURE, ReadinessMonitor, OpenApiDocument],
    };
  }
}
