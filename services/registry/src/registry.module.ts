import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Inject, Injectable, Module, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { createArtifactStore } from '@loopline/artifacts';
import { OutboxPublishing } from '@loopline/eventsourcing';
import { INFRASTRUCTURE, SERVICE_CONFIG, SERVICE_LOGGER, type Infrastructure } from '@loopline/service-host';
import type { Logger } from '@loopline/telemetry';
import { ModelVersionRegistration } from './application/model-version-registration';
import type { ArtifactStore, UploadArea } from './application/ports';
import { RegistryApplication } from './application/registry-application';
import { RegistryGrpcController } from './adapters/grpc/registry.grpc.controller';
import { AliasesController } from './adapters/http/aliases.controller';
import { RegistryHttpSetup } from './adapters/http/http-setup';
import { ModelsController } from './adapters/http/models.controller';
import { VersionsController } from './adapters/http/versions.controller';
import { modelVersionsTopic, outboxMessages } from './adapters/kafka/registry-event-messages';
import { IsolatedOnnxValidator } from './adapters/onnx/onnx-validator';
import { PostgresRegistryStorage, registrySchema } from './adapters/postgres/postgres-registry-storage';
import { ARTIFACT_STORE, REGISTRY_SETTINGS, UPLOAD_AREA } from './adapters/tokens';

const ARTIFACTS = Symbol('registry:artifacts');
type Artifacts = ReturnType<typeof createArtifactStore>;
import type { RegistryConfig, RegistrySettings } from './config';

/** Starts the background work (schema migration, topic, outbox relay) and stops it before the pools close. */
@Injectable()
class RegistryLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    @Inject(PostgresRegistryStorage) private readonly storage: PostgresRegistryStorage,
    @Inject(OutboxPublishing) private readonly publisher: OutboxPublishing,
    @Inject(IsolatedOnnxValidator) private readonly validator: IsolatedOnnxValidator,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    // Not awaited: a database that is down must not stop the boot (readiness reports it).
    if (this.storage.pool) void this.storage.ready().catch((error: unknown) => this.logger.warn({ err: error }, 'registry database not ready yet; will retry on use'));
    this.publisher.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.validator.close();
    await this.publisher.stop();
    await this.storage.stop();
  }
}

/**
 * Wiring of the registry service: registered models, immutable model versions, aliases,
 * promotion gates and lineage (docs/adr/0003-model-registry.md). Health, metrics, OpenAPI and
 * the infrastructure clients come from the service host.
 */
@Module({
  controllers: [ModelsController, VersionsController, AliasesController, RegistryGrpcController],
  providers: [
    { provide: REGISTRY_SETTINGS, useFactory: (config: RegistryConfig): RegistrySettings => config.registry, inject: [SERVICE_CONFIG] },
    {
      provide: PostgresRegistryStorage,
      useFactory: (infrastructure: Infrastructure, logger: Logger) => new PostgresRegistryStorage(infrastructure.postgres, logger),
      inject: [INFRASTRUCTURE, SERVICE_LOGGER],
    },
    {
      provide: OutboxPublishing,
      useFactory: (infrastructure: Infrastructure, storage: PostgresRegistryStorage, logger: Logger, settings: RegistrySettings) =>
        new OutboxPublishing({
          kafka: infrastructure.kafka,
          storage,
          schema: registrySchema,
          topics: [modelVersionsTopic],
          replicationFactor: settings.topicReplicationFactor,
          service: 'registry',
          logger,
        }),
      inject: [INFRASTRUCTURE, PostgresRegistryStorage, SERVICE_LOGGER, REGISTRY_SETTINGS],
    },
    {
      provide: RegistryApplication,
      useFactory: (storage: PostgresRegistryStorage) =>
        new RegistryApplication({ storage, clock: { now: () => new Date() }, ids: { newId: () => randomUUID() }, toOutbox: outboxMessages }),
      inject: [PostgresRegistryStorage],
    },
    {
      provide: ARTIFACTS,
      // Uploads land on the local disk first (hashed, validated), then enter the store.
      useFactory: (settings: RegistrySettings) => createArtifactStore(settings.artifactStore, 'registry'),
      inject: [REGISTRY_SETTINGS],
    },
    { provide: UPLOAD_AREA, useFactory: (artifacts: Artifacts): UploadArea => artifacts.uploads, inject: [ARTIFACTS] },
    { provide: ARTIFACT_STORE, useFactory: (artifacts: Artifacts): ArtifactStore => artifacts.store, inject: [ARTIFACTS] },
    {
      provide: IsolatedOnnxValidator,
      useFactory: (settings: RegistrySettings) => new IsolatedOnnxValidator({ ...settings.validation, workDir: join(settings.artifactRoot, '.validation') }),
      inject: [REGISTRY_SETTINGS],
    },
    {
      provide: ModelVersionRegistration,
      useFactory: (application: RegistryApplication, uploads: UploadArea, artifacts: ArtifactStore, validator: IsolatedOnnxValidator, settings: RegistrySettings) =>
        new ModelVersionRegistration({ application, uploads, artifacts, validator, maxProfileBytes: settings.maxMetadataBytes }),
      inject: [RegistryApplication, UPLOAD_AREA, ARTIFACT_STORE, IsolatedOnnxValidator, REGISTRY_SETTINGS],
    },
    RegistryHttpSetup,
    RegistryLifecycle,
  ],
})
export class RegistryModule {}
