import type { AddressInfo } from 'node:net';
import { isAbsolute } from 'node:path';
import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ServiceErrorFilter } from './error.filter';
import { Transport, type GrpcOptions } from '@nestjs/microservices';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { ServiceConfig } from '@loopline/config';
import type { HostConfig } from '../host-config';
import { NestLoggerAdapter, type Logger, type ServiceMetrics } from '@loopline/telemetry';
import { openInfrastructure, type OpenedInfrastructure } from '../infrastructure/open-infrastructure';
import { healthProtoFile, protoRoot } from '../proto-root';
import { ReadinessMonitor } from '../readiness/readiness-monitor';
import type { ServiceDefinition } from '../service-definition';
import type { ShutdownStep } from '../shutdown/shutdown';
import { shutdownPlan } from '../shutdown/shutdown-plan';
import { HostModule } from './host.module';
import { OpenApiDocument } from './openapi-document';

export interface HostInput<C extends ServiceConfig> {
  readonly definition: ServiceDefinition<C>;
  readonly config: HostConfig;
  readonly logger: Logger;
  readonly metrics: ServiceMetrics;
  readonly flushTelemetry: () => Promise<void>;
}

export interface StartedHost {
  readonly app: NestFastifyApplication;
  readonly readiness: ReadinessMonitor;
  /** `http://host:port` actually bound (the configured port may be 0). */
  readonly httpUrl: string;
  /** `host:port` of the gRPC server. */
  readonly grpcAddress: string;
  readonly shutdownSteps: readonly ShutdownStep[];
}

const readinessTimeoutMs = 2_000;
const readinessIntervalMs = 5_000;

/** Builds the Nest application of a service, opens its ports and starts probing its dependencies. */
export async function startHost<C extends ServiceConfig>(input: HostInput<C>): Promise<StartedHost> {
  const { config, definition, logger } = input;
  const infrastructure = openInfrastructure(config, definition.dependencies, logger);
  const readiness = new ReadinessMonitor(infrastructure.checks, { timeoutMs: readinessTimeoutMs, intervalMs: readinessIntervalMs });
  logReadinessChanges(readiness, logger);
  let app: NestFastifyApplication | undefined;
  try {
    const serviceModule = await definition.loadModule();
    const root = applicationModule(
      HostModule.forRoot({ config, logger, metrics: input.metrics, readiness, infrastructure: infrastructure.clients }),
      serviceModule,
    );
    app = await NestFactory.create<NestFastifyApplication>(root, new FastifyAdapter(), {
      logger: new NestLoggerAdapter(logger.child({ component: 'nest' })),
      abortOnError: false,
    });
    app.useGlobalFilters(new ServiceErrorFilter(logger));
    recordHttpMetrics(app, input.metrics);
    app.get(OpenApiDocument).set(openApiDocument(app, definition));

    const grpcAddress = hostPort(config.host, config.grpcPort);
    app.connectMicroservice<GrpcOptions>(grpcOptions(grpcAddress, definition), { inheritAppConfig: true });
    await app.startAllMicroservices();
    await app.listen(config.httpPort, config.host);
    readiness.start();

    const httpPort = (app.getHttpServer().address() as AddressInfo).port;
    const httpUrl = `http://${hostPort(config.host, httpPort)}`;
    logger.info({ http: httpUrl, grpc: grpcAddress, dependencies: definition.dependencies }, `${config.service} listening on ${httpUrl} (HTTP) and ${grpcAddress} (gRPC)`);
    const started = app;
    return {
      app,
      readiness,
      httpUrl,
      grpcAddress,
      shutdownSteps: shutdownPlan({
        readiness,
        application: { close: () => started.close() },
        infrastructure: infrastructure.closeSteps,
        flushTelemetry: input.flushTelemetry,
      }),
    };
  } catch (error) {
    await abandon(app, infrastructure, logger);
    throw error;
  }
}

/** The service's module beside the host's, under one root. */
function applicationModule(host: DynamicModule, service: Type<unknown> | DynamicModule): Type<unknown> {
  @Module({ imports: [host, service] })
  class ApplicationModule {}
  return ApplicationModule;
}

function grpcOptions(url: string, definition: ServiceDefinition<ServiceConfig>): GrpcOptions {
  const own = definition.grpc;
  return {
    transport: Transport.GRPC,
    options: {
      url,
      package: ['grpc.health.v1', ...(own?.packages ?? [])],
      protoPath: [healthProtoFile, ...(own?.protoFiles ?? [])].map((file) => (isAbsolute(file) ? file : `${protoRoot}/${file}`)),
      // camelCase field names like the generated TypeScript contracts; enums by name; 64-bit integers as strings.
      loader: { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: [protoRoot] },
      // Health Watch streams end when readiness drains, so a graceful stop does not hang on them.
      gracefulShutdown: true,
    },
  };
}

/** Counts every answered request by route template; unmatched URLs share one label value. */
function recordHttpMetrics(app: NestFastifyApplication, metrics: ServiceMetrics): void {
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onResponse', (request, reply, done) => {
      metrics.recordHttpRequest({
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: reply.statusCode,
        durationSeconds: reply.elapsedTime / 1000,
      });
      done();
    });
}

function openApiDocument(app: NestFastifyApplication, definition: ServiceDefinition<ServiceConfig>) {
  const info = new DocumentBuilder()
    .setTitle(definition.manifest.name)
    .setVersion(definition.manifest.version)
    .setDescription(definition.manifest.description ?? '')
    .build();
  return SwaggerModule.createDocument(app, info);
}

/** One line per change, not per probe: the operator learns when and why, without a line every 5 s. */
function logReadinessChanges(readiness: ReadinessMonitor, logger: Logger): void {
  readiness.onChange((report) => {
    if (readiness.isDraining) return;
    if (report.ready) {
      logger.info({ checks: report.checks }, 'ready');
      return;
    }
    const failed = report.checks.filter((check) => !check.ok);
    logger.warn({ checks: report.checks }, `not ready: ${failed.map((check) => `${check.name}: ${check.detail}`).join('; ')}`);
  });
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A start that failed half-way releases what it opened, so the process can exit cleanly. */
async function abandon(app: NestFastifyApplication | undefined, infrastructure: OpenedInfrastructure, logger: Logger): Promise<void> {
  const steps: ShutdownStep[] = [...(app ? [{ name: 'close application', run: () => app.close() }] : []), ...infrastructure.closeSteps];
  for (const step of steps) {
    await Promise.resolve()
      .then(() => step.run())
      .catch((error: unknown) => logger.warn({ err: error, step: step.name }, 'cleanup after a failed start did not finish'));
  }
}
