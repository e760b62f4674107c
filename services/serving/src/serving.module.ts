import { Inject, Module, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ReadinessMonitor, SERVICE_CONFIG, SERVICE_LOGGER, SERVICE_METRICS } from '@loopline/service-host';
import type { Logger, ServiceMetrics } from '@loopline/telemetry';
import type { FastifyInstance } from 'fastify';
import type { ServingConfig } from './config';
import { InferenceService } from './application/inference-service';
import { ModelManager } from './application/model-manager';
import { ModelMetadataQueries } from './application/model-metadata';
import { TrafficPolicies } from './application/traffic-policies';
import { OipGrpcController } from './adapters/grpc/oip-grpc.controller';
import { PredictionGrpcController } from './adapters/grpc/prediction-grpc.controller';
import { TrafficController } from './adapters/http/traffic.controller';
import { ServingRuntime } from './serving-runtime';

/** Ties the runtime's lifecycle to the application's: routes at init, background work at bootstrap, stop after the servers closed. */
class ServingLifecycle implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(ServingRuntime) private readonly runtime: ServingRuntime,
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
  ) {}

  onModuleInit(): void {
    this.runtime.registerHttp(this.adapterHost.httpAdapter.getInstance<FastifyInstance>());
  }

  onApplicationBootstrap(): void {
    this.runtime.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runtime.stop();
  }
}

/**
 * Wiring of the serving service: it owns nothing durable (no Postgres); it follows the registry
 * and serves the Open Inference Protocol (REST under /v2 on the HTTP port, gRPC
 * `inference.GRPCInferenceService` on the gRPC port), predictions by entity (REST
 * `/v1/models/{name}/predict`, gRPC `loopline.serving.v1.PredictionService`), plus the traffic API
 * under /v1/traffic.
 */
@Module({
  controllers: [OipGrpcController, PredictionGrpcController, TrafficController],
  providers: [
    {
      provide: ServingRuntime,
      inject: [SERVICE_CONFIG, SERVICE_LOGGER, SERVICE_METRICS, ReadinessMonitor],
      useFactory: (config: ServingConfig, logger: Logger, metrics: ServiceMetrics, readiness: ReadinessMonitor) =>
        ServingRuntime.create({ config, logger, metrics, readiness }),
    },
    { provide: InferenceService, inject: [ServingRuntime], useFactory: (runtime: ServingRuntime) => runtime.inference },
    { provide: ModelMetadataQueries, inject: [ServingRuntime], useFactory: (runtime: ServingRuntime) => runtime.metadata },
    { provide: ModelManager, inject: [ServingRuntime], useFactory: (runtime: ServingRuntime) => runtime.manager },
    { provide: TrafficPolicies, inject: [ServingRuntime], useFactory: (runtime: ServingRuntime) => runtime.traffic },
    ServingLifecycle,
  ],
})
export class ServingModule {}
