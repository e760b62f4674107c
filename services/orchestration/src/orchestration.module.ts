import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Module, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { INFRASTRUCTURE, SERVICE_CONFIG, SERVICE_LOGGER, type Infrastructure } from '@loopline/service-host';
import type { Logger } from '@loopline/telemetry';
import { OrchestrationApplication } from './application/orchestration-application';
import { OrchestrationGrpcController } from './adapters/grpc/orchestration.grpc.controller';
import { PipelinesController } from './adapters/http/pipelines.controller';
import { LineageController, RunsController } from './adapters/http/runs.controller';
import { runMessages } from './adapters/kafka/contract-messages';
import { eventCatalog } from './adapters/kafka/event-catalog';
import { consumerGroups, OrchestrationBackground } from './adapters/kafka/orchestration-background';
import { PostgresOrchestrationStorage } from './adapters/postgres/orchestration-storage';
import { checkSchedule, Supervisor } from './adapters/scheduler/supervisor';
import type { OrchestrationConfig } from './config';

/** Tells the supervisor that runs ended or were queued, so queued runs start without a period's wait. */
class RunChanges {
  private readonly listeners: (() => void)[] = [];
  notify(): void {
    for (const listener of this.listeners) listener();
  }
  subscribe(listener: () => void): void {
    this.listeners.push(listener);
  }
}

/** Starts the background work (migration, Kafka, supervisor) and stops it before the pools close. */
@Injectable()
class OrchestrationLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    @Inject(PostgresOrchestrationStorage) private readonly storage: PostgresOrchestrationStorage,
    @Inject(OrchestrationBackground) private readonly background: OrchestrationBackground,
    @Inject(Supervisor) private readonly supervisor: Supervisor,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    // Not awaited: a database that is down must not stop the boot (readiness reports it).
    if (this.storage.pool) void this.storage.ready().catch((error: unknown) => this.logger.warn({ err: error }, 'orchestration database not ready yet; will retry on use'));
    this.background.start();
    if (this.storage.pool) this.supervisor.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.supervisor.stop();
    await this.background.stop();
    this.storage.stop();
  }
}

/**
 * Wiring of the orchestration service: pipeline definitions, triggers, event-sourced runs, the
 * task worker, lineage (docs/adr/0008-orchestration.md). Health, metrics, OpenAPI and the
 * infrastructure clients come from the service host.
 */
@Module({
  controllers: [PipelinesController, RunsController, LineageController, OrchestrationGrpcController],
  providers: [
    { provide: PostgresOrchestrationStorage, useFactory: (infrastructure: Infrastructure) => new PostgresOrchestrationStorage(infrastructure.postgres), inject: [INFRASTRUCTURE] },
    { provide: RunChanges, useFactory: () => new RunChanges() },
    {
      provide: Supervisor,
      useFactory: (application: OrchestrationApplication, config: OrchestrationConfig, logger: Logger, changes: RunChanges) => {
        const supervisor = new Supervisor(application, logger.child({ component: 'supervisor' }), {
          tickMs: config.orchestration.tickMs,
          scheduleGroup: consumerGroups(config.orchestration.consumerGroupPrefix).schedules,
        });
        changes.subscribe(() => supervisor.wake());
        return supervisor;
      },
      inject: [OrchestrationApplication, SERVICE_CONFIG, SERVICE_LOGGER, RunChanges],
    },
    {
      provide: OrchestrationApplication,
      useFactory: (storage: PostgresOrchestrationStorage, config: OrchestrationConfig, changes: RunChanges) =>
        new OrchestrationApplication({
          storage,
          clock: { now: () => new Date() },
          ids: { newId: () => randomUUID() },
          messages: runMessages,
          environment: { eventType: (name) => eventCatalog.eventType(name), checkSchedule },
          settings: {
            resultGraceMs: config.orchestration.resultGraceMs,
            defaultTimeoutMs: config.orchestration.defaultTaskTimeoutMs,
            codeVersion: config.orchestration.codeCommit,
          },
          onRunsChanged: () => changes.notify(),
        }),
      inject: [PostgresOrchestrationStorage, SERVICE_CONFIG, RunChanges],
    },
    {
      provide: OrchestrationBackground,
      useFactory: (infrastructure: Infrastructure, storage: PostgresOrchestrationStorage, application: OrchestrationApplication, logger: Logger, config: OrchestrationConfig) =>
        new OrchestrationBackground(infrastructure.kafka, infrastructure.postgres, storage, application, logger, config.orchestration),
      inject: [INFRASTRUCTURE, PostgresOrchestrationStorage, OrchestrationApplication, SERVICE_LOGGER, SERVICE_CONFIG],
    },
    OrchestrationLifecycle,
  ],
})
export class OrchestrationModule {}
