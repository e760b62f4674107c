import { core, NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BatchSpanProcessor, NoopSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { HotPathSampler, type HotPaths } from './hot-paths';
import { looplineInstrumentations } from './instrumentations';

export interface TelemetryOptions {
  readonly serviceName: string;
  /** Base URL of an OTLP/HTTP collector (`OTEL_EXPORTER_OTLP_ENDPOINT`); traces go to `<url>/v1/traces`. */
  readonly otlpEndpoint?: string;
  /** Extra span processors, e.g. an in-memory exporter in tests that assert spans. */
  readonly spanProcessors?: readonly SpanProcessor[];
  /** Paths traced only under a sampled caller (see `HotPaths`). */
  readonly hotPaths?: HotPaths;
}

/** Flushes pending spans and stops the SDK. Safe to call more than once. */
export type ShutdownTelemetry = () => Promise<void>;

let running: { readonly serviceName: string; readonly shutdown: ShutdownTelemetry } | undefined;

/**
 * Starts OpenTelemetry tracing for this process. Instrumentation works by patching `require`, so
 * this must run before Nest, pg, kafkajs or grpc-js are loaded: `main.ts` calls it first and loads
 * the application afterwards.
 *
 * Without an endpoint spans are still created (so logs carry trace ids and context propagates
 * across hops) but nothing is exported: no exporter, no connection errors. Idempotent: a second
 * call returns the shutdown function of the first.
 */
export function startTelemetry(options: TelemetryOptions): ShutdownTelemetry {
  if (running) return running.shutdown;

  const processors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  if (options.otlpEndpoint) {
    const url = `${options.otlpEndpoint.replace(/\/+$/, '')}/v1/traces`;
    processors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url })));
  }
  // The SDK registers a tracer provider only when it has a processor; a no-op one keeps spans
  // recording (and ids flowing) when nothing is exported.
  if (processors.length === 0) processors.push(new NoopSpanProcessor());

  const sdk = new NodeSDK({
    serviceName: options.serviceName,
    instrumentations: looplineInstrumentations(options.hotPaths),
    sampler: new HotPathSampler(options.hotPaths ?? {}),
    spanProcessors: processors,
    textMapPropagator: new core.CompositePropagator({
      propagators: [new core.W3CTraceContextPropagator(), new core.W3CBaggagePropagator()],
    }),
    // Explicitly empty: otherwise the SDK reads OTEL_* defaults and starts OTLP exporters for
    // metrics and logs that nobody asked for (metrics are Prometheus, logs are stdout JSON).
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();

  let stopping: Promise<void> | undefined;
  const shutdown: ShutdownTelemetry = () => {
    stopping ??= sdk.shutdown().finally(() => {
      running = undefined;
    });
    return stopping;
  };
  running = { serviceName: options.serviceName, shutdown };
  return shutdown;
}
