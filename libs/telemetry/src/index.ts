export { createLogger, type Logger, type LoggerOptions, type LogLevel } from './logger';
export { createServiceMetrics, getServiceMetrics, prometheusContentType, type HttpRequestSample, type ServiceMetrics } from './metrics';
export { NestLoggerAdapter } from './nest-logger';
export { startTelemetry, type ShutdownTelemetry, type TelemetryOptions } from './tracing';
export { HotPathSampler, sampledTraceparent, type HotPaths } from './hot-paths';
