import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Module, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { ClickHouseClient } from '@clickhouse/client';
import { createArtifactStore } from '@loopline/artifacts';
import { OutboxPublishing } from '@loopline/eventsourcing';
import { startTaskExecution, type TaskExecution } from '@loopline/messaging';
import { createClickHouseClient } from '@loopline/infra';
import { INFRASTRUCTURE, SERVICE_CONFIG, SERVICE_LOGGER, type Infrastructure } from '@loopline/service-host';
import type { Logger } from '@loopline/telemetry';
import { IngestionApplication } from './application/ingestion-application';
import { IngestionProgress } from './application/ingestion-progress';
import { PipelineTasks } from './application/pipeline-tasks';
import type { ArtifactStore, UploadArea } from './application/ports';
import { ChdbDataEngine } from './adapters/chdb/chdb-data-engine';
import { IngestionGrpcController } from './adapters/grpc/ingestion.grpc.controller';
import { IngestionHttpSetup } from './adapters/http/http-setup';
import { SourcesController } from './adapters/http/sources.controller';
import { StreamsController } from './adapters/http/streams.controller';
import { FileAndS3Imports } from './adapters/imports/import-sources';
import { datasetVersionsTopic, outboxMessages } from './adapters/kafka/dataset-version-messages';
import { SourceStreams } from './adapters/kafka/source-streams';
import { IngestionStorage, ingestionSchema } from './adapters/postgres/ingestion-storage';
import { ARTIFACT_STORE, INGESTION_SETTINGS, SOURCE_STREAMS, UPLOAD_AREA } from './adapters/tokens';
import type { IngestionConfig, IngestionServiceSettings } from './config';

const ARTIFACTS = Symbol('ingestion:artifacts');
const ENGINE_CLIENT = Symbol('ingestion:engine-client');
type Artifacts = ReturnType<typeof createArtifactStore>;

/**
 * Starts the background work (schema migration, topic, outbox relay, the pipeline-task executor,
 * the stream feeds) and stops it before the pools close.
 */
@Injectable()
class IngestionLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private tasks: TaskExecution | undefined;
  private stopping = false;

  constructor(
    @Inject(IngestionStorage) private readonly storage: IngestionStorage,
    @Inject(OutboxPublishing) private readonly publisher: OutboxPublishing,
    @Inject(ENGINE_CLIENT) private readonly engineClient: ClickHouseClient,
    @Inject(IngestionProgress) private readonly progress: IngestionProgress,
    @Inject(PipelineTasks) private readonly pipelineTasks: PipelineTasks,
    @Inject(SOURCE_STREAMS) private readonly streams: SourceStreams | null,
    @Inject(INFRASTRUCTURE) private readonly infrastructure: Infrastructure,
    @Inject(INGESTION_SETTINGS) private readonly settings: IngestionServiceSettings,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    // Not awaited: a database that is down must not stop the boot (readiness reports it).
    const migrated = this.storage.pool
      ? this.storage.ready().catch((error: unknown) => this.logger.warn({ err: error }, 'ingestion database not ready yet; will retry on use'))
      : Promise.resolve();
    this.publisher.start();
    // After the first migration attempt: the task ledger lives in the same schema.
    void migrated.then(() => this.startTasks());
    this.streams?.start();
    this.progress.onChange((view, change) => {
      const fields = { ingestionId: view.ingestionId, source: view.source, phase: view.phase, bytesReceived: view.bytesReceived, rowCount: view.rowCount, elapsedMs: view.elapsedMs };
      if (view.phase === 'failed') this.logger.warn({ ...fields, outcome: view.outcome }, `ingestion ${view.ingestionId} of "${view.source}" failed`);
      else if (view.phase === 'done') this.logger.info({ ...fields, outcome: view.outcome }, `ingestion ${view.ingestionId} of "${view.source}" done`);
      else this.logger.info(fields, `ingestion ${view.ingestionId} of "${view.source}": ${change === 'bytes' ? `${Math.round(view.bytesReceived / 1024 / 1024)} MiB received` : view.phase}`);
    });
  }

  /** Executes the `ingest` and `validate` pipeline steps (RunTask commands from orchestration). */
  private startTasks(): void {
    if (!this.infrastructure.kafka || !this.storage.pool || !this.settings.consumeTasks || this.stopping) return;
    const pipelines = this.settings.taskPipelines;
    this.tasks = startTaskExecution({
      kafka: this.infrastructure.kafka,
      pool: this.storage.pool,
      schema: ingestionSchema,
      executor: 'ingestion',
      kinds: this.pipelineTasks.handlers(),
      logger: this.logger,
      groupId: this.settings.taskConsumerGroup,
      accept: (command) => pipelines === null || pipelines.includes(command.pipelineName),
      replicationFactor: this.settings.topicReplicationFactor,
      // Ingestions queue behind `concurrency` in the application; this bounds the waiting tasks.
      concurrency: Math.max(2, this.settings.concurrency * 2),
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.tasks?.stop();
    await this.streams?.stop();
    await this.publisher.stop();
    this.storage.stop();
    await this.engineClient.close();
  }
}

/**
 * Wiring of the ingestion service: data sources with declared schemas and validation policies,
 * immutable content-addressed dataset versions (docs/adr/0005-ingestion.md). Health, metrics,
 * OpenAPI and the Postgres/Kafka clients come from the service host.
 */
@Module({
  controllers: [SourcesController, StreamsController, IngestionGrpcController],
  providers: [
    { provide: INGESTION_SETTINGS, useFactory: (config: IngestionConfig): IngestionServiceSettings => config.ingestion, inject: [SERVICE_CONFIG] },
    { provide: IngestionStorage, useFactory: (infrastructure: Infrastructure) => new IngestionStorage(infrastructure.postgres), inject: [INFRASTRUCTURE] },
    {
      provide: OutboxPublishing,
      useFactory: (infrastructure: Infrastructure, storage: IngestionStorage, logger: Logger, settings: IngestionServiceSettings) =>
        new OutboxPublishing({
          kafka: infrastructure.kafka,
          storage,
          schema: ingestionSchema,
          topics: [datasetVersionsTopic],
          replicationFactor: settings.topicReplicationFactor,
          service: 'ingestion',
          logger,
        }),
      inject: [INFRASTRUCTURE, IngestionStorage, SERVICE_LOGGER, INGESTION_SETTINGS],
    },
    { provide: ARTIFACTS, useFactory: (settings: IngestionServiceSettings) => createArtifactStore(settings.artifactStore, 'ingestion'), inject: [INGESTION_SETTINGS] },
    { provide: UPLOAD_AREA, useFactory: (artifacts: Artifacts): UploadArea => artifacts.uploads, inject: [ARTIFACTS] },
    { provide: ARTIFACT_STORE, useFactory: (artifacts: Artifacts): ArtifactStore => artifacts.store, inject: [ARTIFACTS] },
    {
      // chDB in this process, on a data folder of its own: the engine reads and writes local files,
      // so it is embedded even when a ClickHouse server is configured for other services.
      provide: ENGINE_CLIENT,
      useFactory: (settings: IngestionServiceSettings) => createClickHouseClient({ path: settings.enginePath }),
      inject: [INGESTION_SETTINGS],
    },
    { provide: IngestionProgress, useFactory: () => new IngestionProgress({ now: () => new Date() }) },
    {
      provide: IngestionApplication,
      useFactory: (storage: IngestionStorage, artifacts: Artifacts, engineClient: ClickHouseClient, progress: IngestionProgress, settings: IngestionServiceSettings) =>
        new IngestionApplication({
          events: () => storage.events(),
          artifacts: artifacts.store,
          uploads: artifacts.uploads,
          engine: new ChdbDataEngine(engineClient, { workDir: artifacts.uploads.incoming, maxMemoryBytes: settings.maxMemoryBytes, threads: settings.threads }),
          imports: new FileAndS3Imports(settings, artifacts.uploads),
          clock: { now: () => new Date() },
          ids: { newId: () => randomUUID() },
          toOutbox: outboxMessages,
          progress,
          settings: { maxUploadBytes: settings.maxUploadBytes, concurrency: settings.concurrency },
        }),
      inject: [IngestionStorage, ARTIFACTS, ENGINE_CLIENT, IngestionProgress, INGESTION_SETTINGS],
    },
    {
      provide: PipelineTasks,
      useFactory: (ingestion: IngestionApplication, storage: IngestionStorage) => new PipelineTasks({ ingestion, versions: storage }),
      inject: [IngestionApplication, IngestionStorage],
    },
    {
      provide: SOURCE_STREAMS,
      useFactory: (infrastructure: Infrastructure, ingestion: IngestionApplication, storage: IngestionStorage, logger: Logger, settings: IngestionServiceSettings) =>
        infrastructure.kafka && storage.pool && settings.consumeStreams
          ? new SourceStreams({ kafka: infrastructure.kafka, ingestion, storage, logger, replicationFactor: settings.topicReplicationFactor })
          : null,
      inject: [INFRASTRUCTURE, IngestionApplication, IngestionStorage, SERVICE_LOGGER, INGESTION_SETTINGS],
    },
    IngestionHttpSetup,
    IngestionLifecycle,
  ],
})
export class IngestionModule {}
