// What runs in the background of the service: the Kafka → ClickHouse sink, the outbox relay of
// alert events, and the evaluation loop (due windows of every monitor, default monitors for new
// models, metrics refreshed from ClickHouse and Postgres). Everything retries: an unreachable
// dependency delays the work, never stops the service (readiness reports it).
import type { OutboxPublishing } from '@loopline/eventsourcing';
import type { Logger } from '@loopline/telemetry';
import type { MonitoringApplication } from './application/monitoring-application';
import type { ClickHouseLogStore } from './adapters/clickhouse/log-store';
import type { LogSink } from './adapters/kafka/log-sink';
import type { MonitoringMetrics } from './adapters/metrics/monitoring-metrics';
import type { MonitoringStorage } from './adapters/postgres/monitoring-storage';

export interface BackgroundParts {
  readonly sink: LogSink | undefined;
  readonly outbox: OutboxPublishing;
  readonly storage: MonitoringStorage;
  readonly log: ClickHouseLogStore;
  readonly monitoring: MonitoringApplication;
  readonly metrics: MonitoringMetrics;
  readonly logger: Logger;
  readonly evaluationIntervalMs: number;
  readonly defaultMonitors: boolean;
  readonly registeredMetrics: (model: string, version: number) => Promise<Record<string, number>>;
}

export class MonitoringBackground {
  private stopped = false;
  private sinkStart: Promise<void> | undefined;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private lastMetricsRefresh = 0;
  private modelsChanged = true;

  constructor(private readonly parts: BackgroundParts) {}

  start(): void {
    this.parts.outbox.start();
    if (this.parts.sink) this.sinkStart = this.startSink(this.parts.sink);
    this.loop = this.evaluationLoop();
  }

  /** A flush brought predictions of models or labels: default monitors are checked on the next tick. */
  noteFlush(newRows: boolean): void {
    if (newRows) this.modelsChanged = true;
  }

  get sinkRunning(): boolean {
    return this.parts.sink?.isRunning ?? false;
  }

  private async startSink(sink: LogSink): Promise<void> {
    for (let attempt = 1; !this.stopped; attempt += 1) {
      try {
        await sink.start();
        this.parts.logger.info({}, 'prediction-log sink started');
        return;
      } catch (error) {
        const delay = Math.min(10_000, 500 * 2 ** Math.min(attempt - 1, 5));
        this.parts.logger.warn({ err: error, attempt, retryInMs: delay }, 'could not start the prediction-log sink yet; retrying');
        await this.sleep(delay);
      }
    }
  }

  private async evaluationLoop(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.parts.storage.ready();
        if (this.parts.defaultMonitors && this.modelsChanged) {
          this.modelsChanged = false;
          const created = await this.parts.monitoring.ensureDefaultMonitors(await this.parts.log.modelsSeen(), this.parts.registeredMetrics);
          if (created.length > 0) this.parts.logger.info({ monitors: created }, 'default monitors created');
        }
        await this.parts.monitoring.tick();
        if (Date.now() - this.lastMetricsRefresh >= Math.max(this.parts.evaluationIntervalMs, 15_000)) await this.refreshMetrics();
      } catch (error) {
        this.parts.logger.warn({ err: error }, 'monitor evaluation loop failed; retrying');
      }
      await this.sleep(this.parts.evaluationIntervalMs);
    }
  }

  /** Gauges from the stored data (exact counts, FINAL), so they survive restarts and redeliveries. */
  async refreshMetrics(): Promise<void> {
    this.lastMetricsRefresh = Date.now();
    const models = new Set((await this.parts.log.modelsSeen()).map((seen) => seen.modelName));
    for (const model of models) this.parts.metrics.setModel(model, await this.parts.log.performance({ modelName: model, modelVersion: null, window: null, targetName: null }));
    const open = await this.parts.storage.alerts({ status: 'open', limit: 1_000 });
    const acknowledged = await this.parts.storage.alerts({ status: 'acknowledged', limit: 1_000 });
    this.parts.metrics.setOpenAlerts([...open, ...acknowledged]);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.sinkStart;
    await this.loop;
    await this.parts.sink?.stop();
    await this.parts.outbox.stop();
  }
}
