import { randomUUID } from 'node:crypto';
import { decodeEvent, type DecodedEvent, type EventOf, type TopicName } from '@loopline/contracts';
import type { Consumer, Kafka } from 'kafkajs';

/**
 * Reads a topic from its beginning into memory, decoded through its contract, for assertions.
 * `events` grows as records arrive; `keyed` keeps only records with the given Kafka key (each test
 * uses model names of its own, on topics shared by the run).
 */
export class TopicReader<Name extends TopicName> {
  readonly events: DecodedEvent<EventOf<Name>>[] = [];
  private consumer: Consumer | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: Name,
    private readonly keys: ReadonlySet<string>,
  ) {}

  async start(): Promise<this> {
    this.consumer = this.kafka.consumer({ groupId: `serving-test-reader-${randomUUID()}`, maxWaitTimeInMs: 100 });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ message }) => {
        const key = message.key?.toString();
        if (key === undefined || !this.keys.has(key)) return;
        this.events.push(decodeEvent(message, this.topic));
      },
    });
    return this;
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}
