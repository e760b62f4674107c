import type { DynamicModule, Type } from '@nestjs/common';
import type { ServiceConfig } from '@loopline/config';
import type { HotPaths } from '@loopline/telemetry';
import type { Dependency } from './infrastructure/dependency';

/** What a service tells the host about itself; everything else (ports, health, metrics, shutdown) is the host's. */
export interface ServiceDefinition<C extends ServiceConfig = ServiceConfig> {
  /** The service's package.json: its version and description head the OpenAPI document. */
  readonly manifest: { readonly name: string; readonly version: string; readonly description?: string };
  /** The service's `loadConfig` (config.ts), called once at start; a `ConfigError` stops the process with exit code 1. */
  readonly loadConfig: () => C;
  /** Each becomes a readiness check; its client is injectable as `INFRASTRUCTURE`. */
  readonly dependencies: readonly Dependency[];
  /**
   * The service's root module, loaded only after telemetry started (instrumentation patches
   * `require`, so Nest, pg, kafkajs and grpc-js must load after it): `() => import('./x.module').then((m) => m.XModule)`.
   */
  readonly loadModule: () => Promise<Type<unknown> | DynamicModule>;
  /** The service's own gRPC API, served next to `grpc.health.v1.Health` on the gRPC port. */
  readonly grpc?: GrpcApi;
  /** Request paths served at high rates, traced only when the caller's trace is sampled. */
  readonly hotPaths?: HotPaths;
}

export interface GrpcApi {
  /** Proto packages whose services the module implements with `@GrpcMethod`, e.g. `loopline.registry.v1`. */
  readonly packages: readonly string[];
  /** Their .proto files, relative to `proto/` (e.g. `loopline/registry/v1/registry.proto`) or absolute. */
  readonly protoFiles: readonly string[];
}
