import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Module, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { createArtifactStore } from '@loopline/artifacts';
import { INFRASTRUCTURE, SERVICE_CONFIG, SERVICE_LOGGER, type Infrastructure } from '@loopline/service-host';
import type { Logger } from '@loopline/telemetry';
import { UnavailableError } from '@loopline/errors';
import type { TaskExecution } from '@loopline/messaging';
import { DatasetFiles } from './application/dataset-files';
import { DefinitionsApplication, joinKeysOf } from './application/definitions';
import { Materializer } from './application/materialization';
import { OnlineFeatures } from './application/online-features';
import { PipelineTasks } from './application/pipeline-tasks';
import type { Clock, Ids, MaterializationLog } from './application/ports';
import { TrainingSets } from './application/training-sets';
import { StoreArtifacts } from './adapters/artifacts';
import { ClickHouseOfflineStore } from './adapters/clickhouse/offline-store';
import { FeatureServingGrpcController } from './adapters/grpc/feature-serving.grpc.controller';
import { FeatureStoreController } from './adapters/http/feature-store.controller';
import { OnlineServer } from './adapters/online-server/online-server';
import { HttpDatasetSource } from './adapters/ingestion/http-dataset-source';
import { FeatureStoreBackground } from './adapters/kafka/background';
import { startPipelineTaskExecution } from './adapters/kafka/pipeline-task-execution';
import { PostgresKnownDatasetVersions, PostgresTrainingSetStore } from './adapters/postgres/dataset-versions';
import { PostgresDefinitionStore } from './adapters/postgres/definition-store';
import { PostgresMaterializationLog } from './adapters/postgres/materialization-log';
import { OnlineInvalidations } from './adapters/postgres/online-invalidations';
import { PostgresOnlineStore } from './adapters/postgres/online-store';
import { FeatureStoreStorage } from './adapters/postgres/storage';
import { FEATURE_STORE_SETTINGS, MATERIALIZATION_LOG, ONLINE_INVALIDATIONS, ONLINE_SERVER } from './adapters/tokens';
import type { FeatureStoreConfig, FeatureStoreSettings } from './config';
import type { DatasetSource } from './application/ports';

/** Lets tests replace the ingestion service with Parquet files of their own. */
export const DATASET_SOURCE = Symbol('feature-store:dataset-source');

const clock: Clock = { now: () => new Date() };
const ids: Ids = { newId: () => randomUUID() };

@Injectable()
class FeatureStoreLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private tasks: TaskExecution | undefined;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    @Inject(FeatureStoreStorage) private readonly storage: FeatureStoreStorage,
    @Inject(FeatureStoreBackground) private readonly background: FeatureStoreBackground,
    @Inject(PipelineTasks) private readonly pipelineTasks: PipelineTasks,
    @Inject(INFRASTRUCTURE) private readonly infrastructure: Infrastructure,
    @Inject(FEATURE_STORE_SETTINGS) private readonly settings: FeatureStoreSettings,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
    @Inject(ONLINE_SERVER) private readonly onlineServer: OnlineServer | null,
    @Inject(ONLINE_INVALIDATIONS) private readonly invalidations: OnlineInvalidations | null,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.invalidations?.start();
    if (this.storage.configured) {
      // The online server reads the schema the migration makes: it starts once that is done.
      await this.storage.ready().then(
        () => this.onlineServer?.start(),
        (error: unknown) => {
          this.logger.warn({ err: error }, 'feature store database not ready yet; will retry on use');
          this.startOnlineServerWhenReady();
        },
      );
    }
    this.background.start();
    const { kafka, postgres } = this.infrastructure;
    if (this.settings.executeTasks && kafka && postgres) {
      this.tasks = startPipelineTaskExecution(kafka, postgres, this.pipelineTasks, this.logger, {
        groupId: this.settings.taskConsumerGroup,
        pipelines: this.settings.taskPipelines,
        concurrency: this.settings.taskConcurrency,
        replicationFactor: this.settings.topicReplicationFactor,
      });
    }
  }

  private startOnlineServerWhenReady(): void {
    if (!this.onlineServer) return;
    const attempt = () => {
      if (this.stopped) return;
      this.storage.ready().then(
        () => this.onlineServer?.start(),
        () => (this.retry = setTimeout(attempt, 2_000)),
      );
    };
    this.retry = setTimeout(attempt, 2_000);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await this.onlineServer?.stop();
    await this.invalidations?.stop();
    await this.tasks?.stop();
    await this.background.stop();
  }
}

/**
 * Wiring of the feature-store service: definitions as code (event-sourced), materialization into
 * the offline (ClickHouse) and online (Postgres) stores, training sets and online serving
 * (docs/adr/0006-feature-store.md). Health, metrics, OpenAPI and the infrastructure clients come
 * from the service host.
 */
@Module({
  controllers: [FeatureStoreController, FeatureServingGrpcController],
  providers: [
    { provide: FEATURE_STORE_SETTINGS, useFactory: (config: FeatureStoreConfig): FeatureStoreSettings => config.featureStore, inject: [SERVICE_CONFIG] },
    { provide: FeatureStoreStorage, useFactory: (infrastructure: Infrastructure) => new FeatureStoreStorage(infrastructure.postgres), inject: [INFRASTRUCTURE] },
    {
      provide: DATASET_SOURCE,
      useFactory: (settings: FeatureStoreSettings): DatasetSource => new HttpDatasetSource(settings.ingestionUrl),
      inject: [FEATURE_STORE_SETTINGS],
    },
    {
      provide: DefinitionsApplication,
      useFactory: (storage: FeatureStoreStorage) => new DefinitionsApplication(readyFirst(storage, new PostgresDefinitionStore(storage.pool, storage.events)), clock),
      inject: [FeatureStoreStorage],
    },
    {
      provide: MATERIALIZATION_LOG,
      useFactory: (storage: FeatureStoreStorage): MaterializationLog => readyFirst(storage, new PostgresMaterializationLog(storage.pool, storage.events)),
      inject: [FeatureStoreStorage],
    },
    {
      provide: ClickHouseOfflineStore,
      useFactory: (infrastructure: Infrastructure, settings: FeatureStoreSettings, definitions: DefinitionsApplication) => {
        if (!infrastructure.clickhouse) throw new UnavailableError('ClickHouse is not configured');
        return new ClickHouseOfflineStore(infrastructure.clickhouse, async (view) => joinKeysOf(await definitions.recentCatalog(), view), {
          mode: settings.datasetAccess,
          ingestionUrl: settings.clickhouseDatasetUrl,
        });
      },
      inject: [INFRASTRUCTURE, FEATURE_STORE_SETTINGS, DefinitionsApplication],
    },
    {
      provide: DatasetFiles,
      useFactory: (source: DatasetSource, settings: FeatureStoreSettings) => new DatasetFiles(source, settings.datasetFolder, settings.datasetAccess),
      inject: [DATASET_SOURCE, FEATURE_STORE_SETTINGS],
    },
    {
      provide: ONLINE_SERVER,
      useFactory: (config: FeatureStoreConfig, logger: Logger): OnlineServer | null => {
        const { onlineServer, cacheRowsPerView } = config.featureStore;
        if (!onlineServer.enabled || !config.postgresUrl) return null;
        return new OnlineServer(
          {
            host: config.host,
            httpPort: onlineServer.httpPort,
            grpcPort: onlineServer.grpcPort,
            httpPortSetting: 'LOOPLINE_FEATURE_STORE_ONLINE_HTTP_PORT',
            grpcPortSetting: 'LOOPLINE_FEATURE_STORE_ONLINE_GRPC_PORT',
            postgresUrl: config.postgresUrl,
            cacheRowsPerView,
            nice: onlineServer.nice,
            mainGrpcAddress: `${config.host}:${config.grpcPort}`,
          },
          logger,
        );
      },
      inject: [SERVICE_CONFIG, SERVICE_LOGGER],
    },
    {
      provide: OnlineFeatures,
      useFactory: (definitions: DefinitionsApplication, storage: FeatureStoreStorage, offline: ClickHouseOfflineStore, settings: FeatureStoreSettings, onlineServer: OnlineServer | null) =>
        new OnlineFeatures(definitions, readyFirst(storage, new PostgresOnlineStore(storage.pool)), offline, clock, settings.cacheRowsPerView, (view, version) =>
          onlineServer?.invalidate(view, version),
        ),
      inject: [DefinitionsApplication, FeatureStoreStorage, ClickHouseOfflineStore, FEATURE_STORE_SETTINGS, ONLINE_SERVER],
    },
    {
      provide: ONLINE_INVALIDATIONS,
      useFactory: (config: FeatureStoreConfig, online: OnlineFeatures, logger: Logger): OnlineInvalidations | null =>
        config.postgresUrl
          ? new OnlineInvalidations(online, {
              connectionString: config.postgresUrl,
              applicationName: 'loopline-feature-store-invalidations',
              log: (level, msg, error) => logger[level]({ err: error, component: 'online-invalidations' }, msg),
            })
          : null,
      inject: [SERVICE_CONFIG, OnlineFeatures, SERVICE_LOGGER],
    },
    {
      provide: Materializer,
      useFactory: (
        definitions: DefinitionsApplication,
        datasets: DatasetFiles,
        storage: FeatureStoreStorage,
        offline: ClickHouseOfflineStore,
        log: MaterializationLog,
        online: OnlineFeatures,
        logger: Logger,
        onlineServer: OnlineServer | null,
      ) =>
        new Materializer({
          definitions,
          datasets,
          known: readyFirst(storage, new PostgresKnownDatasetVersions(storage.pool)),
          offline,
          online: readyFirst(storage, new PostgresOnlineStore(storage.pool)),
          log,
          clock,
          ids,
          onMaterialized: (view, version) => {
            online.invalidate(view, version);
            onlineServer?.invalidate(view, version);
          },
          onProgress: (progress) => logger.info(progress, `materialization ${progress.view}@v${progress.viewVersion}: ${progress.phase}`),
        }),
      inject: [DefinitionsApplication, DatasetFiles, FeatureStoreStorage, ClickHouseOfflineStore, MATERIALIZATION_LOG, OnlineFeatures, SERVICE_LOGGER, ONLINE_SERVER],
    },
    {
      provide: TrainingSets,
      useFactory: (
        definitions: DefinitionsApplication,
        datasets: DatasetFiles,
        offline: ClickHouseOfflineStore,
        log: MaterializationLog,
        storage: FeatureStoreStorage,
        settings: FeatureStoreSettings,
      ) => {
        const artifacts = createArtifactStore(settings.artifactStore, 'feature-store');
        return new TrainingSets({
          definitions,
          datasets,
          offline,
          log,
          store: readyFirst(storage, new PostgresTrainingSetStore(storage.pool)),
          artifacts: new StoreArtifacts(artifacts.store, artifacts.uploads),
          clock,
        });
      },
      inject: [DefinitionsApplication, DatasetFiles, ClickHouseOfflineStore, MATERIALIZATION_LOG, FeatureStoreStorage, FEATURE_STORE_SETTINGS],
    },
    {
      provide: PipelineTasks,
      useFactory: (materializer: Materializer, trainingSets: TrainingSets) => new PipelineTasks({ materializer, trainingSets }),
      inject: [Materializer, TrainingSets],
    },
    {
      provide: FeatureStoreBackground,
      useFactory: (infrastructure: Infrastructure, storage: FeatureStoreStorage, materializer: Materializer, logger: Logger, settings: FeatureStoreSettings) =>
        new FeatureStoreBackground(infrastructure.kafka, infrastructure.postgres, () => storage.ready(), materializer, logger, {
          replicationFactor: settings.topicReplicationFactor,
          consumeDatasetEvents: settings.consumeDatasetEvents,
          materializationTimeoutMs: settings.materializationTimeoutMs,
          groupId: settings.consumerGroup,
        }),
      inject: [INFRASTRUCTURE, FeatureStoreStorage, Materializer, SERVICE_LOGGER, FEATURE_STORE_SETTINGS],
    },
    FeatureStoreLifecycle,
  ],
})
export class FeatureStoreModule {}

/**
 * Every method of a Postgres adapter first waits for the schema migration (done once, retried
 * after a failure), so no request ever meets a missing table.
 */
export function readyFirst<T extends object>(storage: FeatureStoreStorage, adapter: T): T {
  return new Proxy(adapter, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        await storage.ready();
        return (value as (...parameters: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
