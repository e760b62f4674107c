import { z } from 'zod';
import { loadConfig } from './load-config';
import { defaultPorts, type ServiceName } from './ports';

const port = z.coerce.number().int().min(0).max(65535);
const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** Environment prefix of one service: `feature-store` → `LOOPLINE_FEATURE_STORE_`. */
export function envPrefix(service: ServiceName): string {
  return `LOOPLINE_${service.toUpperCase().replace(/-/g, '_')}_`;
}

/**
 * Configuration every service shares. Infrastructure endpoints are optional: a service without a
 * broker or database still boots and reports itself not ready, rather than crashing at start.
 * A service's own ports are read under its prefix and parsed as `SERVICE_HTTP_PORT` /
 * `SERVICE_GRPC_PORT`, so the schema keeps static keys (and precise types).
 */
export function serviceConfigSchema(service: ServiceName) {
  return z
    .object({
      LOOPLINE_HOST: z.string().min(1).default('127.0.0.1'),
      SERVICE_HTTP_PORT: port.default(defaultPorts[service].http),
      SERVICE_GRPC_PORT: port.default(defaultPorts[service].grpc),
      LOOPLINE_KAFKA_BROKERS: z.string().regex(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/, 'expected host:port[,host:port…]').optional(),
      LOOPLINE_POSTGRES_URL: z.string().url().startsWith('postgres', 'expected a postgres:// URL').optional(),
      LOOPLINE_CLICKHOUSE_URL: z.string().url().optional(),
      LOOPLINE_DATA_DIR: z.string().min(1).default('.loopline'),
      LOOPLINE_LOG_LEVEL: logLevel.default('info'),
      OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
    })
    .transform((env) => ({
      service,
      host: env.LOOPLINE_HOST,
      httpPort: env.SERVICE_HTTP_PORT,
      grpcPort: env.SERVICE_GRPC_PORT,
      kafkaBrokers: env.LOOPLINE_KAFKA_BROKERS?.split(','),
      postgresUrl: env.LOOPLINE_POSTGRES_URL,
      clickhouseUrl: env.LOOPLINE_CLICKHOUSE_URL,
      dataDir: env.LOOPLINE_DATA_DIR,
      logLevel: env.LOOPLINE_LOG_LEVEL,
      otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
    }));
}

export type ServiceConfig = z.infer<ReturnType<typeof serviceConfigSchema>>;

export function loadServiceConfig(service: ServiceName, env: Record<string, string | undefined>): ServiceConfig {
  const prefix = envPrefix(service);
  const http = `${prefix}HTTP_PORT`;
  const grpc = `${prefix}GRPC_PORT`;
  return loadConfig(
    serviceConfigSchema(service),
    { ...env, SERVICE_HTTP_PORT: env[http], SERVICE_GRPC_PORT: env[grpc] },
    { SERVICE_HTTP_PORT: http, SERVICE_GRPC_PORT: grpc },
  );
}
