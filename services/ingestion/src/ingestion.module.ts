import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Module, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { ClickHouseClient } from '@clickhouse/client';
import { createArtifactStore } from '@loopline/artifacts';
import { OutboxPublishing } from '@loopline/eventsourcing';
import { createClickHouseClient } from '@loopline/infra';
import { INFRASTRUCTURE, SERVICE_CONFIG, SERVICE_LOGGER, type Infrastructure } from '@loopline/service-host';
import type { Logger } from '@loopline/telemetry';
import { IngestionApplication } from './application/ingestion-application';
import { IngestionProgress } from './application/ingestion-progress';
import type { ArtifactStore, UploadArea } from './application/ports';
import { ChdbDataEngine } from './adapters/chdb/chdb-data-engine';
import { IngestionGrpcController } from './adapters/grpc/ingestion.grpc.controller';
import { IngestionHttpSetup } from './adapters/http/http-setup';
import { SourcesController } from './adapters/http/sources.controller';
import { FileAndS3Imports } from './adapters/imports/import-sources';
import { datasetVersionsTopic, outboxMessages } from './adapters/kafka/dataset-version-messages';
import { IngestionStorage, ingestionSchema } from './adapters/postgres/ingestion-storage';
import { ARTIFACT_STORE, INGESTION_SETTINGS, UPLOAD_AREA } from './adapters/tokens';
import type { IngestionConfig, IngestionServiceSettings } from './config';

const ARTIFACTS = Symbol('ingestion:artifacts');
const ENGINE_CLIENT = Symbol('ingestion:engine-client');
type Artifacts = ReturnType<typeof createArtifactStore>;

/** Starts the background work (schema migration, topic, outbox relay) and stops it before the pools close. */
@Injectable()
class IngestionLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    @Inject(IngestionStorage) private readonly storage: IngestionStorage,
    @Inject(OutboxPublishing) private readonly publisher: OutboxPublishing,
    @Inject(ENGINE_CLIENT) private readonly engineClient: ClickHouseClient,
    @Inject(IngestionProgress) private readonly progress: IngestionProgress,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    // Not awaited: a database that is down must not stop the boot (readiness reports it).
    if (this.storage.pool) void this.storage.ready().catch((error: unknown) => this.logger.warn({ err: error }, 'ingestion database not ready yet; will retry on use'));
    this.publisher.start();
    this.progress.onChange((view, change) => {
      const fields = { ingestionId: view.ingestionId, source: view.source, phase: view.phase, bytesReceived: view.bytesReceived, rowCount: view.rowCount, elapsedMs: view.elapsedMs };
      if (view.phase === 'failed') this.logger.warn({ ...fields, outcome: view.outcome }, `ingestion ${view.ingestionId} of "${view.source}" failed`);
      else if (view.phase === 'done') this.logger.info({ ...fields, outcome: view.outcome }, `ingestion ${view.ingestionId} of "${view.source}" done`);
      else this.logger.info(fields, `ingestion ${view.ingestionId} of "${view.source}": ${change === 'bytes' ? `${Math.round(view.bytesReceived / 1024 / 1024)} MiB received` : view.phase}`);
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
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
  controllers: [SourcesController, IngestionGrpcController],
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
    IngestionHttpSetup,
    IngestionLifecycle,
  ],
})
export class IngestionModule {}
