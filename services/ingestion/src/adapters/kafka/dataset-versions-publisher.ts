// Publishes the ingestion outbox to Kafka, inside the service: provisions
// `loopline.ingestion.dataset-versions.v1` (brokers never auto-create topics), then runs the outbox
// relay (position order below the xid8 horizon, at least once, exclusive across replicas).
// Everything retries in the background: Kafka being down delays publishing, never a command.
import type { Kafka, Producer } from 'kafkajs';
import { getTopic } from '@loopline/contracts';
import { createOutboxProducer, KafkaOutboxPublisher, OutboxRelay } from '@loopline/eventsourcing';
import { ensureTopics } from '@loopline/messaging';
import type { Logger } from '@loopline/telemetry';
import type { IngestionStorage } from '../postgres/ingestion-storage';
import { ingestionSchema } from '../postgres/ingestion-storage';
import { datasetVersionsTopic } from './dataset-version-messages';

export interface DatasetVersionsPublisherOptions {
  readonly replicationFactor: number;
  /** First and longest pause between start attempts. */
  readonly retry?: { readonly initialMs?: number; readonly maxMs?: number };
}

export class DatasetVersionsPublisher {
  private relay: OutboxRelay | undefined;
  private producer: Producer | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly kafka: Kafka | undefined,
    private readonly storage: IngestionStorage,
    private readonly logger: Logger,
    private readonly options: DatasetVersionsPublisherOptions,
  ) {}

  /** Starts trying, in the background, until the relay runs or `stop()` is called. */
  start(): void {
    if (this.loop || !this.kafka || !this.storage.store) return;
    this.loop = this.startWithRetries(this.kafka);
  }

  get running(): boolean {
    return this.relay?.running ?? false;
  }

  private async startWithRetries(kafka: Kafka): Promise<void> {
    const initialMs = this.options.retry?.initialMs ?? 500;
    const maxMs = this.options.retry?.maxMs ?? 10_000;
    for (let attempt = 1; !this.stopping; attempt += 1) {
      try {
        await this.storage.ready();
        await this.provisionTopic(kafka);
        await this.startRelay(kafka);
        this.logger.info({ topic: datasetVersionsTopic }, 'outbox relay started');
        return;
      } catch (error) {
        const delay = Math.min(maxMs, initialMs * 2 ** Math.min(attempt - 1, 10));
        this.logger.warn({ err: error, attempt, retryInMs: delay }, 'could not start publishing ingestion events yet; retrying');
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

  private async provisionTopic(kafka: Kafka): Promise<void> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const result = await ensureTopics(admin, [
        { topic: datasetVersionsTopic, numPartitions: getTopic(datasetVersionsTopic).partitions, replicationFactor: this.options.replicationFactor },
      ]);
      for (const mismatch of result.partitionMismatches) this.logger.warn(mismatch, 'topic has another partition count than its contract; left as it is');
    } finally {
      await admin.disconnect();
    }
  }

  private async startRelay(kafka: Kafka): Promise<void> {
    if (this.stopping) return;
    const producer = createOutboxProducer(kafka);
    await producer.connect();
    if (this.stopping) {
      await producer.disconnect();
      return;
    }
    this.producer = producer;
    this.relay = new OutboxRelay({
      pool: this.storage.pool!,
      publisher: new KafkaOutboxPublisher(producer),
      schema: ingestionSchema,
      pollIntervalMs: 50,
      onError: (error) => this.logger.warn({ err: error }, 'outbox relay: publishing failed; backing off'),
    });
    this.relay.start();
  }

  /** Stops retrying; lets the relay publish what is pending for up to `drainTimeoutMs`. */
  async stop(drainTimeoutMs = 2_000): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    await this.relay?.stop({ drain: true, drainTimeoutMs });
    await this.producer?.disconnect();
  }
}
