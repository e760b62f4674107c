// An in-memory OpenTelemetry SDK for specs that assert spans: a real NodeTracerProvider (with its
// AsyncLocalStorage context manager) and the W3C trace-context propagator, registered globally
// for the spec's process, exporting finished spans synchronously to memory.
import { core } from '@opentelemetry/sdk-node';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

export interface TestTracing {
  finishedSpans(): ReadableSpan[];
  shutdown(): Promise<void>;
}

export function installTestTracing(): TestTracing {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.register({ propagator: new core.W3CTraceContextPropagator() });
  return {
    finishedSpans: () => exporter.getFinishedSpans(),
    shutdown: () => provider.shutdown(),
  };
}
