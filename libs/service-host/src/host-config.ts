import type { ServiceConfig, ServiceName } from '@loopline/config';

/**
 * The fields of a service's configuration the host reads: what `loadServiceConfig` returns.
 *
 * Spelled out here because `ServiceConfig` is currently inferred with `unknown` fields (the
 * computed `LOOPLINE_<SERVICE>_*` keys of its zod schema widen the object type); `hostConfig`
 * is the one place that bridges the two. Once libs/config infers precisely, this type and
 * `ServiceConfig` coincide and the bridge is a no-op.
 */
export interface HostConfig {
  readonly service: ServiceName;
  readonly host: string;
  readonly httpPort: number;
  readonly grpcPort: number;
  readonly kafkaBrokers?: readonly string[];
  readonly postgresUrl?: string;
  readonly clickhouseUrl?: string;
  readonly dataDir: string;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly otlpEndpoint?: string;
}

export function hostConfig(config: ServiceConfig): HostConfig {
  return config as unknown as HostConfig;
}
