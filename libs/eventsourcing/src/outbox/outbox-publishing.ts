// Publishes a service's outbox to Kafka, inside the service: provisions the service's topics
// (brokers never auto-create them), then runs the outbox relay (position order below the xid8
// horizon, at least once, exclusive across replicas). Everything retries in the background:
// Kafka being down delays publishing, never a command.
import type { Kafka, Producer } from 'kafkajs';
import type { Pool } from 'pg';
import { getTopic } from '@loopline/contracts';
import { ensureTopics } from '@loopline/messaging';
import { createOutboxProducer, KafkaOutboxPublisher } from './kafka-outbox-publisher';
import { OutboxRelay } from './outbox-relay';

/** The logging the publisher needs (pino's shape). */
export interface OutboxPublishingLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface OutboxPublishingOptions {
  readonly kafka: Kafka | undefined;
  /** The service's storage: its pool (absent when no database is configured) and schema readiness. */
  readonly storage: { readonly pool: Pool | undefined; ready(): Promise<void> };
  /** The Postgres schema of the service's event store and outbox. */
  readonly schema: string;
  /** Topics of the topic registry this outbox writes to; provisioned with their contract's partitions. */
  readonly topics: readonly string[];
  readonly replicationFactor: number;
  /** Names the service in logs, e.g. `registry`. */
  readonly service: string;
  readonly logger: OutboxPublishingLogger;
  /** First and longest pause between start attempts. */
  readonly retry?: { readonly initialMs?: number; readonly maxMs?: number };
  readonly pollIntervalMs?: number;
}

export class OutboxPublishing {
  private relay: OutboxRelay | undefined;
  private producer: Producer | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;

  constructor(private readonly options: OutboxPublishingOptions) {}

  /** Starts trying, in the background, until the relay runs or `stop()` is called. */
  start(): void {
    if (this.loop || !this.options.kafka || !this.options.storage.pool) return;
    this.loop = this.startWithRetries(this.options.kafka);
  }

  get running(): boolean {
    return this.relay?.running ?? false;
  }

  private async startWithRetries(kafka: Kafka): Promise<void> {
    const initialMs = this.options.retry?.initialMs ?? 500;
    const maxMs = this.options.retry?.maxMs ?? 10_000;
    for (let attempt = 1; !this.stopping; attempt += 1) {
      try {
        await this.options.storage.ready();
        await this.provisionTopics(kafka);
        await this.startRelay(kafka);
        this.options.logger.info({ topics: this.options.topics }, 'outbox relay started');
        return;
      } catch (error) {
        const delay = Math.min(maxMs, initialMs * 2 ** Math.min(attempt - 1, 10));
        this.options.logger.warn({ err: error, attempt, retryInMs: delay }, `could not start publishing ${this.options.service} events yet; retrying`);
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
      const result = await ensureTopics(
        admin,
        this.options.topics.map((topic) => ({ topic, numPartitions: getTopic(topic).partitions, replicationFactor: this.options.replicationFactor })),
      );
      for (const mismatch of result.partitionMismatches) this.options.logger.warn(mismatch, 'topic has another partition count than its contract; left as it is');
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
      pool: this.options.storage.pool!,
      publisher: new KafkaOutboxPublisher(producer),
      schema: this.options.schema,
      pollIntervalMs: this.options.pollIntervalMs ?? 50,
      onError: (error) => this.options.logger.warn({ err: error }, 'outbox relay: publishing failed; backing off'),
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
