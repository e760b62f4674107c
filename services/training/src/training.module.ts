import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Inject, Injectable, Module, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { createArtifactStore } from '@loopline/artifacts';
import { builtinTrainerVersion } from '@loopline/ml';
import { OutboxPublishing } from '@loopline/eventsourcing';
import { startTaskExecution, taskResultsTopic, type TaskExecution } from '@loopline/messaging';
import { INFRASTRUCTURE, SERVICE_CONFIG, SERVICE_LOGGER, type Infrastructure } from '@loopline/service-host';
import type { Logger } from '@loopline/telemetry';
import { TaskExecutor, taskErrorOf } from './application/task-executor';
import { Tracking } from './application/tracking';
import { TrainingJobs } from './application/training-jobs';
import type { ExternalTrainers, RunArtifactStore } from './application/ports';
import { lockfileSha256 } from './adapters/environment/lockfile';
import { HttpTrainingSetSource } from './adapters/feature-store/http-training-set-source';
import { TrainingGrpcController } from './adapters/grpc/training.grpc.controller';
import { TrainingHttpSetup } from './adapters/http/http-setup';
import { parseTrainTask, parseTuneTask } from './adapters/http/request-schemas';
import { JobsController, TrackingController } from './adapters/http/training.controller';
import { executorName, outboxMessages, trainingRunsTopic } from './adapters/kafka/training-messages';
import { ChdbDatasetReader } from './adapters/parquet/chdb-dataset-reader';
import { PostgresTrainingStorage, trainingSchema } from './adapters/postgres/training-storage';
import { HttpModelRegistry } from './adapters/registry/http-model-registry';
import { ContentAddressedRunArtifacts } from './adapters/run-artifact-store';
import { WorkerThreadTrainerPool } from './adapters/trainers/builtin-trainer-pool';
import { ConfiguredExternalTrainers } from './adapters/trainers/external-trainers';
import { EXTERNAL_TRAINERS, RUN_ARTIFACTS, TRAINING_SETTINGS } from './adapters/tokens';
import type { TrainingConfig, TrainingSettings } from './config';

/**
 * Starts the background work — schema migration, topics and outbox relay, the task-command
 * consumer, and the resumption of jobs a previous process left running — and stops it before
 * the pools close.
 */
@Injectable()
class TrainingLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private tasks: TaskExecution | undefined;
  private stopping = false;
  private readonly bootedAt = new Date().toISOString();

  constructor(
    @Inject(PostgresTrainingStorage) private readonly storage: PostgresTrainingStorage,
    @Inject(OutboxPublishing) private readonly publisher: OutboxPublishing,
    @Inject(TrainingJobs) private readonly jobs: TrainingJobs,
    @Inject(TaskExecutor) private readonly executor: TaskExecutor,
    @Inject(WorkerThreadTrainerPool) private readonly pool: WorkerThreadTrainerPool,
    @Inject(ChdbDatasetReader) private readonly reader: ChdbDatasetReader,
    @Inject(INFRASTRUCTURE) private readonly infrastructure: Infrastructure,
    @Inject(TRAINING_SETTINGS) private readonly settings: TrainingSettings,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.storage.pool) return;
    void this.resume();
    this.publisher.start();
    if (this.infrastructure.kafka && this.settings.consumeTasks) {
      const pipelines = this.settings.taskPipelines;
      this.tasks = startTaskExecution({
        kafka: this.infrastructure.kafka,
        pool: this.storage.pool,
        schema: trainingSchema,
        executor: executorName,
        kinds: this.executor.handlers(),
        logger: this.logger,
        groupId: this.settings.taskConsumerGroup,
        accept: (command) => pipelines === null || pipelines.includes(command.pipelineName),
        replicationFactor: this.settings.topicReplicationFactor,
        // Training runs resume at start-up; a short lease lets the next process answer them soon.
        leaseMs: 10_000,
        // A task only waits for its run; TrainingJobs throttles the trainings themselves.
        concurrency: 16,
        classifyError: taskErrorOf,
      });
    }
  }

  private async resume(): Promise<void> {
    for (let attempt = 0; !this.stopping; attempt += 1) {
      try {
        const running = await this.storage.runSummaries({ status: 'RUNNING' });
        // Runs started by this process (a request that came in meanwhile) are not interrupted.
        await this.jobs.resumeInterrupted(running.filter((run) => run.startedAt < this.bootedAt));
        return;
      } catch (error) {
        this.logger.warn({ err: error }, 'training database not ready yet; will retry resuming interrupted jobs');
        await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 500 * 2 ** attempt)));
      }
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.tasks?.stop();
    await this.jobs.stop();
    await this.pool.close();
    await this.publisher.stop();
    await this.reader.close();
    await this.storage.stop();
  }
}

type Artifacts = ReturnType<typeof createArtifactStore>;
const ARTIFACTS = Symbol('training:artifacts');

/**
 * Wiring of the training service: training and tuning jobs, built-in and external trainers,
 * experiment tracking, the task executor (docs/adr/0007-training.md). Health, metrics, OpenAPI and
 * the infrastructure clients come from the service host.
 */
@Module({
  controllers: [JobsController, TrackingController, TrainingGrpcController],
  providers: [
    { provide: TRAINING_SETTINGS, useFactory: (config: TrainingConfig): TrainingSettings => config.training, inject: [SERVICE_CONFIG] },
    {
      provide: PostgresTrainingStorage,
      useFactory: (infrastructure: Infrastructure, logger: Logger) => new PostgresTrainingStorage(infrastructure.postgres, logger),
      inject: [INFRASTRUCTURE, SERVICE_LOGGER],
    },
    {
      provide: OutboxPublishing,
      useFactory: (infrastructure: Infrastructure, storage: PostgresTrainingStorage, logger: Logger, settings: TrainingSettings) =>
        new OutboxPublishing({
          kafka: infrastructure.kafka,
          storage,
          schema: trainingSchema,
          topics: [trainingRunsTopic, taskResultsTopic],
          replicationFactor: settings.topicReplicationFactor,
          service: 'training',
          logger,
        }),
      inject: [INFRASTRUCTURE, PostgresTrainingStorage, SERVICE_LOGGER, TRAINING_SETTINGS],
    },
    {
      provide: Tracking,
      useFactory: (storage: PostgresTrainingStorage) => new Tracking({ storage, clock: { now: () => new Date() }, ids: { newId: () => randomUUID() }, toOutbox: outboxMessages }),
      inject: [PostgresTrainingStorage],
    },
    { provide: ARTIFACTS, useFactory: (settings: TrainingSettings) => createArtifactStore(settings.artifactStore, 'training'), inject: [TRAINING_SETTINGS] },
    {
      provide: RUN_ARTIFACTS,
      useFactory: (artifacts: Artifacts, settings: TrainingSettings): RunArtifactStore => new ContentAddressedRunArtifacts(artifacts.store, artifacts.uploads, join(settings.artifactRoot, '.jobs')),
      inject: [ARTIFACTS, TRAINING_SETTINGS],
    },
    { provide: EXTERNAL_TRAINERS, useFactory: (settings: TrainingSettings): ExternalTrainers => new ConfiguredExternalTrainers(settings.externalTrainers), inject: [TRAINING_SETTINGS] },
    { provide: WorkerThreadTrainerPool, useFactory: (settings: TrainingSettings) => new WorkerThreadTrainerPool(settings.workers), inject: [TRAINING_SETTINGS] },
    { provide: ChdbDatasetReader, useFactory: (settings: TrainingSettings) => new ChdbDatasetReader(settings.clickhousePath), inject: [TRAINING_SETTINGS] },
    {
      provide: TrainingJobs,
      useFactory: (tracking: Tracking, artifacts: RunArtifactStore, externals: ExternalTrainers, pool: WorkerThreadTrainerPool, reader: ChdbDatasetReader, settings: TrainingSettings, logger: Logger) =>
        new TrainingJobs({
          tracking,
          trainingSets: new HttpTrainingSetSource(settings.featureStoreUrl),
          reader,
          artifacts,
          registry: new HttpModelRegistry(settings.registryUrl, 'service:training'),
          pool,
          externals,
          logger,
          settings: {
            codeCommit: settings.codeCommit,
            builtin: { version: builtinTrainerVersion, lockSha256: lockfileSha256(settings.lockfile) },
            maxConcurrentJobs: settings.maxConcurrentJobs,
            workers: settings.workers,
          },
        }),
      inject: [Tracking, RUN_ARTIFACTS, EXTERNAL_TRAINERS, WorkerThreadTrainerPool, ChdbDatasetReader, TRAINING_SETTINGS, SERVICE_LOGGER],
    },
    {
      provide: TaskExecutor,
      useFactory: (tracking: Tracking, jobs: TrainingJobs, logger: Logger) =>
        new TaskExecutor({ tracking, jobs, logger, parseTrain: parseTrainTask, parseTune: parseTuneTask }),
      inject: [Tracking, TrainingJobs, SERVICE_LOGGER],
    },
    TrainingHttpSetup,
    TrainingLifecycle,
  ],
})
export class TrainingModule {}
