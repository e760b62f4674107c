// The public surface of the service host. Importing it loads no framework code (Nest, pg, kafkajs,
// grpc-js are loaded by `startService` after telemetry has started), so `main.ts` can import it first.
export { bootstrapService, type BootstrapOptions } from './bootstrap-service';
export type { Dependency } from './infrastructure/dependency';
export {
  aggregateReadiness,
  DependencyNotConfiguredError,
  readinessBody,
  runReadinessChecks,
  type CheckResult,
  type ReadinessBody,
  type ReadinessCheck,
  type ReadinessReport,
} from './readiness/readiness';
export { ReadinessMonitor, type ReadinessListener, type ReadinessMonitorOptions } from './readiness/readiness-monitor';
export type { HostConfig } from './host-config';
export type { GrpcApi, ServiceDefinition } from './service-definition';
export { runShutdown, shutdownExitCode, type ShutdownOptions, type ShutdownOutcome, type ShutdownStep } from './shutdown/shutdown';
export { shutdownPlan, type ShutdownParts } from './shutdown/shutdown-plan';
export { defaultShutdownTimeoutMs, startService, type RunningService } from './start-service';
export { INFRASTRUCTURE, SERVICE_CONFIG, SERVICE_LOGGER, SERVICE_METRICS, type Infrastructure } from './tokens';
