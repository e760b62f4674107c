import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * Prometheus metrics of serving, on the service's registry (exposed at `/metrics` by the host).
 * Get-or-create: several serving instances in one process (tests) share the registry.
 */
export class ServingMetrics {
  readonly rejected: Counter<'reason'>;
  readonly batchRows: Histogram;
  readonly modelLoads: Counter<'outcome' | 'reason'>;
  readonly modelLoadSeconds: Histogram;
  readonly predictionLog: Counter<'outcome'>;
  readonly shadowSkipped: Counter<'reason'>;
  readonly spoolBytes: Gauge;
  readonly inFlight: Gauge;
  /** Where the gauges read their values when scraped. */
  readonly readers: { spoolBytes?: () => number; inFlight?: () => number } = {};

  constructor(registry: Registry) {
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> =>
      (registry.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter({ name, help, labelNames, registers: [registry] });
    const histogram = (name: string, help: string, buckets: number[]): Histogram =>
      (registry.getSingleMetric(name) as Histogram | undefined) ?? new Histogram({ name, help, buckets, registers: [registry] });
    const readers = this.readers;
    const gauge = (name: string, help: string, read: () => number | undefined): Gauge =>
      (registry.getSingleMetric(name) as Gauge | undefined) ??
      new Gauge({
        name,
        help,
        registers: [registry],
        collect() {
          this.set(read() ?? 0);
        },
      });

    this.rejected = counter('loopline_serving_requests_rejected_total', 'Inference requests refused without running: overloaded (in-flight bound) or expired (deadline passed while queued).', ['reason']);
    this.batchRows = histogram('loopline_serving_batch_rows', 'Rows per ONNX Runtime run (dynamic batching).', [1, 2, 4, 8, 16, 32, 64, 128, 256]);
    this.modelLoads = counter('loopline_serving_model_loads_total', 'Model version loads, by outcome and failure reason.', ['outcome', 'reason']);
    this.modelLoadSeconds = histogram('loopline_serving_model_load_seconds', 'Time to download, verify, load and warm up a model version.', [0.01, 0.05, 0.1, 0.5, 1, 5, 30]);
    this.predictionLog = counter('loopline_serving_prediction_log_total', 'Predictions by what the prediction log did with them: published, spooled, replayed, dropped.', ['outcome']);
    this.shadowSkipped = counter('loopline_serving_shadow_skipped_total', 'Shadow inferences not made, by reason.', ['reason']);
    this.spoolBytes = gauge('loopline_serving_prediction_spool_bytes', 'Bytes of predictions waiting in the local spool for Kafka.', () => readers.spoolBytes?.());
    this.inFlight = gauge('loopline_serving_requests_in_flight', 'Inference requests admitted and not answered yet.', () => readers.inFlight?.());
  }
}
