import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export interface HttpRequestSample {
  readonly method: string;
  /** The route template (`/models/:id`), never the raw URL: label values must stay few. */
  readonly route: string;
  readonly status: number;
  readonly durationSeconds: number;
}

export interface ServiceMetrics {
  readonly registry: Registry;
  readonly httpRequestsTotal: Counter<'method' | 'route' | 'status'>;
  readonly httpRequestDurationSeconds: Histogram<'method' | 'route' | 'status'>;
  recordHttpRequest(sample: HttpRequestSample): void;
  /** The Prometheus text exposition of every metric of the registry. */
  render(): Promise<string>;
}

/** `text/plain; version=0.0.4; charset=utf-8`: the Prometheus text format. */
export const prometheusContentType: string = Registry.PROMETHEUS_CONTENT_TYPE;

/**
 * A fresh registry with Node's default metrics (`process_cpu_seconds_total`, heap, event loop
 * lag…) and the HTTP metrics every service exposes. Services use the process-wide one from
 * `getServiceMetrics()`; tests make their own.
 */
export function createServiceMetrics(): ServiceMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const labelNames = ['method', 'route', 'status'] as const;
  const httpRequestsTotal = new Counter({
    name: 'loopline_http_requests_total',
    help: 'HTTP requests answered, by method, route template and status code.',
    labelNames,
    registers: [registry],
  });
  const httpRequestDurationSeconds = new Histogram({
    name: 'loopline_http_request_duration_seconds',
    help: 'Time from receiving an HTTP request to sending its response, in seconds.',
    labelNames,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return {
    registry,
    httpRequestsTotal,
    httpRequestDurationSeconds,
    recordHttpRequest(sample) {
      const labels = { method: sample.method, route: sample.route, status: String(sample.status) };
      httpRequestsTotal.inc(labels);
      httpRequestDurationSeconds.observe(labels, sample.durationSeconds);
    },
    render: () => registry.metrics(),
  };
}

let processMetrics: ServiceMetrics | undefined;

/** The registry of this process: one per process, so default metrics are collected once. */
export function getServiceMetrics(): ServiceMetrics {
  processMetrics ??= createServiceMetrics();
  return processMetrics;
}
