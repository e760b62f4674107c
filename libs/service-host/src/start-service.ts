import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { ServiceConfig } from '@loopline/config';
import { createLogger, getServiceMetrics, startTelemetry, type Logger } from '@loopline/telemetry';
import type { ReadinessMonitor } from './readiness/readiness-monitor';
import type { ServiceDefinition } from './service-definition';
import { runShutdown, type ShutdownOutcome } from './shutdown/shutdown';

export interface RunningService<C extends ServiceConfig = ServiceConfig> {
  readonly config: C;
  readonly logger: Logger;
  readonly app: NestFastifyApplication;
  readonly readiness: ReadinessMonitor;
  readonly httpUrl: string;
  readonly grpcAddress: string;
  /** Runs the shutdown plan within `timeoutMs`; never exits the process. */
  stop(timeoutMs?: number): Promise<ShutdownOutcome>;
}

export const defaultShutdownTimeoutMs = 10_000;

/**
 * Starts a service in this process and returns a handle: config → telemetry → Nest app → ports.
 * Throws `ConfigError` for a bad environment and whatever stopped the start otherwise (e.g. a port
 * in use). `bootstrapService` wraps this for `main.ts` with signals and exit codes; tests that want
 * a service in-process call it directly.
 */
export async function startService<C extends ServiceConfig>(definition: ServiceDefinition<C>): Promise<RunningService<C>> {
  const serviceConfig = definition.loadConfig();
  const config = serviceConfig;
  const flushTelemetry = startTelemetry({ serviceName: `loopline-${config.service}`, otlpEndpoint: config.otlpEndpoint, hotPaths: definition.hotPaths });
  const logger = createLogger({ service: config.service, level: config.logLevel });
  // Loaded now, not at the top: this pulls in Nest, pg, kafkajs and grpc-js, which must load
  // after telemetry has patched `require`.
  const { startHost } = await import('./host/start-host');
  const host = await startHost({ definition, config, logger, metrics: getServiceMetrics(), flushTelemetry });
  return {
    config: serviceConfig,
    logger,
    app: host.app,
    readiness: host.readiness,
    httpUrl: host.httpUrl,
    grpcAddress: host.grpcAddress,
    stop: (timeoutMs = defaultShutdownTimeoutMs) =>
      runShutdown(host.shutdownSteps, {
        timeoutMs,
        onStepFailed: (step, error) => logger.error({ err: error, step }, `shutdown step "${step}" failed`),
      }),
  };
}
