// Orchestration's Kafka side, started in the background so that Kafka being down delays runs but
// never a request: provisions its topics, relays the outbox (run events, task commands), consumes
// task results, consumes the topics its event triggers listen to (the set follows the applied
// pipelines), and runs the task worker when this process hosts it.
import { hostname } from 'node:os';
import type { Kafka, Producer } from 'kafkajs';
import type { Pool } from 'pg';
import { getTopic, isEvent, TaskCompletedSchema, TaskFailedSchema, type TopicName } from '@loopline/contracts';
import { createOutboxProducer, KafkaOutboxPublisher, OutboxRelay } from '@loopline/eventsourcing';
import { ensureTopics, subscribeToEvents, type Subscription } from '@loopline/messaging';
import type { Logger } from '@loopline/telemetry';
import type { OrchestrationApplication } from '../../application/orchestration-application';
import type { PipelineRow } from '../../application/ports';
import type { TriggerDefinition } from '../../domain/pipeline/pipeline-definition';
import type { OrchestrationSettings } from '../../config';
import { orchestrationSchema, type PostgresOrchestrationStorage } from '../postgres/orchestration-storage';
import { orchestrationExecutors } from '../worker/executors';
import { TaskWorker } from '../worker/task-worker';
import { eventPayloadJson } from './event-catalog';
import { pipelineRunsTopic, resultFromCompleted, resultFromFailed, taskCommandsTopic, taskResultsTopic } from './contract-messages';

export function consumerGroups(prefix: string) {
  return { results: `${prefix}-results`, triggers: `${prefix}-triggers`, worker: `${prefix}-worker`, schedules: `${prefix}-schedules` };
}

export class OrchestrationBackground {
  private relay: OutboxRelay | undefined;
  private producer: Producer | undefined;
  private results: Subscription | undefined;
  private triggers: Subscription | undefined;
  private triggerTopics = '';
  private eventTriggers: { readonly pipeline: PipelineRow; readonly trigger: TriggerDefinition }[] = [];
  private worker: TaskWorker | undefined;
  private loop: Promise<void> | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> = Promise.resolve();
  private stopping = false;
  private wake: (() => void) | undefined;
  private readonly groups: ReturnType<typeof consumerGroups>;
  private started: (() => void) | undefined;
  /** Resolves once the relay, the consumers (and the worker) run. */
  readonly whenStarted = new Promise<void>((resolve) => (this.started = resolve));

  constructor(
    private readonly kafka: Kafka | undefined,
    private readonly pool: Pool | undefined,
    private readonly storage: PostgresOrchestrationStorage,
    private readonly application: OrchestrationApplication,
    private readonly logger: Logger,
    private readonly settings: OrchestrationSettings,
  ) {
    this.groups = consumerGroups(settings.consumerGroupPrefix);
  }

  start(): void {
    if (this.loop || !this.kafka || !this.pool) return;
    this.loop = this.startWithRetries(this.kafka, this.pool);
  }

  /** Whether every consumer this process should run is a member of its group. */
  get consuming(): boolean {
    return (this.results?.isRunning() ?? false) && (!this.settings.worker || (this.worker?.running ?? false));
  }

  private async startWithRetries(kafka: Kafka, pool: Pool): Promise<void> {
    for (let attempt = 1; !this.stopping; attempt += 1) {
      try {
        await this.storage.ready();
        await this.provision(kafka, [pipelineRunsTopic, taskCommandsTopic, taskResultsTopic]);
        if (!this.relay) await this.startRelay(kafka, pool);
        if (!this.results) await this.subscribeResults(kafka);
        if (this.settings.worker && !this.worker) {
          const worker = new TaskWorker(
            kafka,
            this.storage,
            this.application,
            orchestrationExecutors({ registryUrl: this.settings.registryUrl, servingUrl: this.settings.servingUrl, monitoringUrl: this.settings.monitoringUrl }),
            this.logger.child({ component: 'task-worker' }),
            { groupId: this.groups.worker, leaseMs: this.settings.workerLeaseMs, concurrency: this.settings.workerConcurrency, owner: `${hostname()}:${process.pid}:in-service` },
          );
          await worker.start();
          this.worker = worker;
        }
        await this.refreshTriggers();
        this.refreshTimer = setInterval(() => void this.refreshTriggers().catch((error: unknown) => this.logger.warn({ err: error }, 'could not refresh event triggers')), this.settings.triggerRefreshMs);
        this.logger.info({ worker: this.settings.worker }, 'orchestration events: relay, result consumer and triggers running');
        this.started?.();
        return;
      } catch (error) {
        const delay = Math.min(10_000, 500 * 2 ** Math.min(attempt - 1, 10));
        this.logger.warn({ err: error, attempt, retryInMs: delay }, 'could not start orchestration event processing yet; retrying');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  }

  private async provision(kafka: Kafka, names: readonly string[]): Promise<void> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      // Consumed topics get their dead-letter topic; provisioning is idempotent and the owners
      // of the other topics may not have started yet.
      const consumed = new Set([taskCommandsTopic, taskResultsTopic, ...this.eventTriggers.map((entry) => entry.trigger.topic!)]);
      await ensureTopics(
        admin,
        names.map((topic) => ({ topic, numPartitions: getTopic(topic).partitions, replicationFactor: this.settings.topicReplicationFactor, withDeadLetterTopic: consumed.has(topic) })),
      );
    } finally {
      await admin.disconnect();
    }
  }

  private async startRelay(kafka: Kafka, pool: Pool): Promise<void> {
    const producer = createOutboxProducer(kafka);
    await producer.connect();
    this.producer = producer;
    this.relay = new OutboxRelay({
      pool,
      publisher: new KafkaOutboxPublisher(producer),
      schema: orchestrationSchema,
      // Dispatch latency is a product feature here (trigger → first task ≤ 1 s).
      pollIntervalMs: 20,
      onError: (error) => this.logger.warn({ err: error }, 'outbox relay: publishing failed; backing off'),
    });
    this.relay.start();
  }

  private async subscribeResults(kafka: Kafka): Promise<void> {
    this.results = await subscribeToEvents(kafka, {
      groupId: this.groups.results,
      topics: [taskResultsTopic],
      fromBeginning: true,
      logger: this.logger,
      group: { maxWaitTimeMs: 100 },
      handle: async (event) => {
        const result = isEvent(event, TaskCompletedSchema) ? resultFromCompleted(event.message) : isEvent(event, TaskFailedSchema) ? resultFromFailed(event.message) : undefined;
        if (result === undefined) return;
        await this.application.recordTaskResult(result, event.id, this.groups.results);
      },
    });
  }

  /** Call after applying a pipeline: picks up new event triggers now rather than at the next refresh. */
  pipelinesChanged(): Promise<void> {
    return this.refreshTriggers().catch((error: unknown) => this.logger.warn({ err: error }, 'could not refresh event triggers'));
  }

  /** Re-reads the event triggers; re-subscribes when the set of topics they listen to changed. */
  private refreshTriggers(): Promise<void> {
    this.refreshing = this.refreshing.then(async () => {
      if (this.stopping || !this.kafka) return;
      const all = await this.application.activeTriggers();
      this.eventTriggers = all.filter((entry) => entry.trigger.kind === 'event' && entry.trigger.topic !== null);
      const topics = [...new Set(this.eventTriggers.map((entry) => entry.trigger.topic!))].sort();
      const key = topics.join(',');
      if (key === this.triggerTopics && (topics.length === 0 || this.triggers !== undefined)) return;
      await this.triggers?.stop();
      this.triggers = undefined;
      this.triggerTopics = key;
      if (topics.length === 0) return;
      await this.provision(this.kafka, topics);
      this.triggers = await subscribeToEvents(this.kafka, {
        groupId: this.groups.triggers,
        topics: topics as TopicName[],
        // Safe: a trigger only fires for events newer than its pipeline version.
        fromBeginning: true,
        logger: this.logger,
        group: { maxWaitTimeMs: 100 },
        handle: async (event) => {
          const matching = this.eventTriggers.filter((entry) => entry.trigger.eventType === event.type);
          if (matching.length === 0) return;
          const payload = eventPayloadJson(event);
          for (const { pipeline, trigger } of matching) {
            const outcome = await this.application.offerToTrigger(pipeline, trigger, { eventId: event.id, eventType: event.type, eventTime: event.time, payload }, this.groups.triggers);
            if (outcome.decision !== 'no_match' && outcome.decision !== 'too_old') this.logger.info({ ...outcome, eventId: event.id }, `trigger ${trigger.name} of ${pipeline.name}: ${outcome.decision}`);
          }
        },
      });
      this.logger.info({ topics }, 'event triggers listening');
    });
    return this.refreshing;
  }

  /** The topics event triggers listen to now (for tests and status). */
  get listeningTo(): readonly string[] {
    return this.triggers?.isRunning() ? this.triggerTopics.split(',').filter(Boolean) : [];
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    await this.loop;
    await this.refreshing.catch(() => undefined);
    await this.worker?.stop();
    await this.triggers?.stop();
    await this.results?.stop();
    await this.relay?.stop({ drain: true, drainTimeoutMs: 2_000 });
    await this.producer?.disconnect();
  }
}

