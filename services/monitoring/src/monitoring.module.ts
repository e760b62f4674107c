import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Module, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { OutboxPublishing } from '@loopline/eventsourcing';
import { UnavailableError } from '@loopline/errors';
import { INFRASTRUCTURE, SERVICE_CONFIG, SERVICE_LOGGER, SERVICE_METRICS, type Infrastructure } from '@loopline/service-host';
import type { Logger, ServiceMetrics } from '@loopline/telemetry';
import { MonitoringApplication } from './application/monitoring-application';
import { ClickHouseLogStore } from './adapters/clickhouse/log-store';
import { ReferenceData } from './adapters/clickhouse/reference-data';
import { WindowEvaluator } from './adapters/clickhouse/window-evaluator';
import { trainingSetDownloader } from './adapters/feature-store/training-set-download';
import { MonitoringGrpcController } from './adapters/grpc/monitoring.grpc.controller';
import { MonitoringController } from './adapters/http/monitoring.controller';
import { alertsTopic } from './adapters/kafka/alert-messages';
import { LabelPublisher } from './adapters/kafka/label-publisher';
import { LogSink } from './adapters/kafka/log-sink';
import { MonitoringMetrics } from './adapters/metrics/monitoring-metrics';
import { MonitoringStorage, monitoringSchema } from './adapters/postgres/monitoring-storage';
import { RegistryClient } from './adapters/registry/registry-client';
import type { MonitoringConfig, MonitoringSettings } from './config';
import { MonitoringBackground } from './monitoring-background';

const SETTINGS = Symbol('monitoring:settings');

@Injectable()
class MonitoringLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    @Inject(MonitoringStorage) private readonly storage: MonitoringStorage,
    @Inject(MonitoringBackground) private readonly background: MonitoringBackground,
    @Inject(LabelPublisher) private readonly labels: LabelPublisher,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    // Not awaited: a database that is down must not stop the boot (readiness reports it).
    if (this.storage.pool) void this.storage.ready().catch((error: unknown) => this.logger.warn({ err: error }, 'monitoring database not ready yet; will retry on use'));
    this.background.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.background.stop();
    await this.labels.close();
  }
}

/**
 * Wiring of the monitoring service: the prediction log and labels in ClickHouse (a batched,
 * redelivery-safe Kafka sink), monitors and their alerts (Postgres, alert events through the
 * outbox), drift/quality/performance evaluations inside ClickHouse, REST and gRPC.
 */
@Module({
  controllers: [MonitoringController, MonitoringGrpcController],
  providers: [
    { provide: SETTINGS, useFactory: (config: MonitoringConfig): MonitoringSettings => config.monitoring, inject: [SERVICE_CONFIG] },
    { provide: MonitoringStorage, useFactory: (infrastructure: Infrastructure) => new MonitoringStorage(infrastructure.postgres), inject: [INFRASTRUCTURE] },
    {
      provide: ClickHouseLogStore,
      useFactory: (infrastructure: Infrastructure, settings: MonitoringSettings) => {
        if (!infrastructure.clickhouse) throw new UnavailableError('ClickHouse is not configured');
        return new ClickHouseLogStore(infrastructure.clickhouse, settings.database);
      },
      inject: [INFRASTRUCTURE, SETTINGS],
    },
    { provide: RegistryClient, useFactory: (settings: MonitoringSettings) => new RegistryClient(settings.registryUrl), inject: [SETTINGS] },
    {
      provide: MonitoringMetrics,
      useFactory: (metrics: ServiceMetrics) => new MonitoringMetrics(metrics.registry),
      inject: [SERVICE_METRICS],
    },
    { provide: LabelPublisher, useFactory: (infrastructure: Infrastructure, logger: Logger) => new LabelPublisher(infrastructure.kafka, logger), inject: [INFRASTRUCTURE, SERVICE_LOGGER] },
    {
      provide: WindowEvaluator,
      useFactory: (log: ClickHouseLogStore, registry: RegistryClient, settings: MonitoringSettings, config: MonitoringConfig, logger: Logger) => {
        const references = new ReferenceData(
          log,
          { version: (model, version) => registry.version(model, version), downloadTrainingSet: trainingSetDownloader(settings.featureStoreUrl) },
          { workDir: settings.workDir, embedded: !config.clickhouseUrl, onProgress: (message, fields) => logger.info(fields, message) },
        );
        return new WindowEvaluator({ store: log, references, registeredMetrics: async (model, version) => (await registry.version(model, version))?.metrics ?? {} });
      },
      inject: [ClickHouseLogStore, RegistryClient, SETTINGS, SERVICE_CONFIG, SERVICE_LOGGER],
    },
    {
      provide: MonitoringApplication,
      useFactory: (storage: MonitoringStorage, log: ClickHouseLogStore, evaluator: WindowEvaluator, registry: RegistryClient, metrics: MonitoringMetrics, settings: MonitoringSettings, logger: Logger) =>
        new MonitoringApplication({
          storage,
          log,
          evaluator,
          versions: registry,
          clock: { now: () => new Date() },
          ids: { newId: () => randomUUID() },
          defaults: { windowSize: settings.defaultWindowSize },
          observer: { evaluated: (evaluation) => metrics.observeEvaluation(evaluation) },
          logger,
        }),
      inject: [MonitoringStorage, ClickHouseLogStore, WindowEvaluator, RegistryClient, MonitoringMetrics, SETTINGS, SERVICE_LOGGER],
    },
    {
      provide: MonitoringBackground,
      useFactory: (
        infrastructure: Infrastructure,
        storage: MonitoringStorage,
        log: ClickHouseLogStore,
        monitoring: MonitoringApplication,
        metrics: MonitoringMetrics,
        registry: RegistryClient,
        settings: MonitoringSettings,
        logger: Logger,
      ) => {
        const started: { background?: MonitoringBackground } = {};
        const sink = infrastructure.kafka
          ? new LogSink(infrastructure.kafka, log, {
              groupId: settings.consumerGroup,
              insertRows: settings.insertRows,
              flushMs: settings.flushMs,
              replicationFactor: settings.topicReplicationFactor,
              logger,
              onFlushed: (flushed) => {
                metrics.ingestedRows.inc({ table: 'predictions' }, flushed.predictions.length);
                metrics.ingestedRows.inc({ table: 'labels' }, flushed.labels.length);
                if (flushed.rejected > 0) metrics.rejectedRecords.inc(flushed.rejected);
                started.background?.noteFlush(flushed.predictions.length + flushed.labels.length > 0);
              },
            })
          : undefined;
        const outbox = new OutboxPublishing({
          kafka: infrastructure.kafka,
          storage,
          schema: monitoringSchema,
          topics: [alertsTopic],
          replicationFactor: settings.topicReplicationFactor,
          service: 'monitoring',
          logger,
        });
        const background = new MonitoringBackground({
          sink,
          outbox,
          storage,
          log,
          monitoring,
          metrics,
          logger,
          evaluationIntervalMs: settings.evaluationIntervalMs,
          defaultMonitors: settings.defaultMonitors,
          registeredMetrics: async (model, version) => (await registry.version(model, version))?.metrics ?? {},
        });
        started.background = background;
        return background;
      },
      inject: [INFRASTRUCTURE, MonitoringStorage, ClickHouseLogStore, MonitoringApplication, MonitoringMetrics, RegistryClient, SETTINGS, SERVICE_LOGGER],
    },
    MonitoringLifecycle,
  ],
})
export class MonitoringModule {}
