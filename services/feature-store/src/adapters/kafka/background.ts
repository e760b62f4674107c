// The feature store's Kafka side, run in the background so that Kafka being down delays
// publishing and event-driven materialization but never a request: provisions its topics (and the
// dead-letter topic of its subscription), relays the outbox (FeatureViewApplied,
// MaterializationCompleted) and materializes every DatasetVersionCreated of a source a view reads.
import type { Kafka, Producer } from 'kafkajs';
import type { Pool } from 'pg';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { DatasetVersionCreatedSchema, getTopic, isEvent } from '@loopline/contracts';
import { createOutboxProducer, Inbox, KafkaOutboxPublisher, OutboxRelay } from '@loopline/eventsourcing';
import { ensureTopics, subscribeToEvents, type Subscription } from '@loopline/messaging';
import type { Logger } from '@loopline/telemetry';
import type { Materializer } from '../../application/materialization';
import { PostgresKnownDatasetVersions } from '../postgres/dataset-versions';
import { featureStoreSchema } from '../postgres/schema';
import { featureViewsTopic, materializationsTopic } from './contract-messages';

export const datasetVersionsTopic = 'loopline.ingestion.dataset-versions.v1';
export const materializerGroup = 'loopline-feature-store-materializer';

export interface BackgroundOptions {
  readonly replicationFactor: number;
  readonly consumeDatasetEvents: boolean;
  readonly materializationTimeoutMs: number;
  readonly groupId?: string;
}

export class FeatureStoreBackground {
  private relay: OutboxRelay | undefined;
  private producer: Producer | undefined;
  private subscription: Subscription | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly kafka: Kafka | undefined,
    private readonly pool: Pool | undefined,
    private readonly ready: () => Promise<void>,
    private readonly materializer: Materializer,
    private readonly logger: Logger,
    private readonly options: BackgroundOptions,
  ) {}

  start(): void {
    if (this.loop || !this.kafka || !this.pool) return;
    this.loop = this.startWithRetries(this.kafka, this.pool);
  }

  /** Whether the dataset-event consumer is a member of its group (when it should be). */
  get consuming(): boolean {
    return !this.options.consumeDatasetEvents || (this.subscription?.isRunning() ?? false);
  }

  private async startWithRetries(kafka: Kafka, pool: Pool): Promise<void> {
    for (let attempt = 1; !this.stopping; attempt += 1) {
      try {
        await this.ready();
        await this.provisionTopics(kafka);
        if (!this.relay) await this.startRelay(kafka, pool);
        if (this.options.consumeDatasetEvents && !this.subscription) await this.subscribe(kafka, pool);
        this.logger.info({ consuming: this.options.consumeDatasetEvents }, 'feature-store events: outbox relay running');
        return;
      } catch (error) {
        const delay = Math.min(10_000, 500 * 2 ** Math.min(attempt - 1, 10));
        this.logger.warn({ err: error, attempt, retryInMs: delay }, 'could not start the feature store event processing yet; retrying');
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

  private async provisionTopics(kafka: Kafka): Promise<void> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const spec = (topic: string, withDeadLetterTopic = false) => ({
        topic,
        numPartitions: getTopic(topic).partitions,
        replicationFactor: this.options.replicationFactor,
        withDeadLetterTopic,
      });
      // Ingestion's topic too: provisioning is idempotent, and the subscription must not wait
      // for ingestion to have started first.
      await ensureTopics(admin, [spec(featureViewsTopic), spec(materializationsTopic), spec(datasetVersionsTopic, true)]);
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
      schema: featureStoreSchema,
      pollIntervalMs: 50,
      onError: (error) => this.logger.warn({ err: error }, 'outbox relay: publishing failed; backing off'),
    });
    this.relay.start();
  }

  private async subscribe(kafka: Kafka, pool: Pool): Promise<void> {
    const inbox = new Inbox({ schema: featureStoreSchema });
    const groupId = this.options.groupId ?? materializerGroup;
    this.subscription = await subscribeToEvents(kafka, {
      groupId,
      topics: [datasetVersionsTopic],
      fromBeginning: true,
      logger: this.logger,
      handlerTimeoutMs: this.options.materializationTimeoutMs,
      group: { sessionTimeoutMs: this.options.materializationTimeoutMs + 30_000, heartbeatIntervalMs: 3_000 },
      handle: async (event) => {
        if (!isEvent(event, DatasetVersionCreatedSchema)) return;
        const created = event.message;
        // The effect (materialization) is idempotent by itself; the inbox row commits only after
        // it succeeded, so a crash in between redoes it (and finds it done).
        const outcome = await inbox.handleOnce(pool, groupId, event.id, async (tx) => {
          await new PostgresKnownDatasetVersions(tx).record(
            created.sourceName,
            created.datasetVersionId,
            Number(created.rowCount),
            created.createdAt ? timestampDate(created.createdAt) : event.time,
          );
          return this.materializer.materializeSource(created.sourceName, created.datasetVersionId);
        });
        if (outcome.status === 'processed') {
          this.logger.info({ source: created.sourceName, datasetVersionId: created.datasetVersionId, views: outcome.result.map((record) => `${record.view}@v${record.viewVersion}`) }, 'dataset version materialized');
        }
      },
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    await this.subscription?.stop();
    await this.relay?.stop({ drain: true, drainTimeoutMs: 2_000 });
    await this.producer?.disconnect();
  }
}
