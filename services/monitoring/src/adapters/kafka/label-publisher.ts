// Labels sent to the REST or gRPC API go to Kafka as `LabelReceived` (topic
// `loopline.feedback.labels.v1`, key: the prediction id or the canonical entity key), so every
// label reaches the ClickHouse log through the same path, whoever wrote it.
import { randomUUID } from 'node:crypto';
import { create, fromJson } from '@bufbuild/protobuf';
import { timestampFromMs, ValueSchema } from '@bufbuild/protobuf/wkt';
import { LabelReceivedSchema, labelKey } from '@loopline/contracts';
import { contractMessage, createEventProducer, type EventProducer } from '@loopline/messaging';
import { UnavailableError } from '@loopline/errors';
import type { Kafka } from 'kafkajs';
import type { Logger } from '@loopline/telemetry';
import { labelsTopic } from './log-sink';

export interface LabelToPublish {
  readonly predictionId?: string;
  readonly modelName?: string;
  readonly entityKeys?: Readonly<Record<string, string>>;
  readonly targetName: string;
  readonly value: number | string | boolean;
  readonly eventTime: Date;
}

export class LabelPublisher {
  private producer: EventProducer | undefined;
  private connecting: Promise<EventProducer> | undefined;

  constructor(
    private readonly kafka: Kafka | undefined,
    private readonly logger: Logger,
  ) {}

  private connected(): Promise<EventProducer> {
    const kafka = this.kafka;
    if (!kafka) return Promise.reject(new UnavailableError('Kafka is not configured (LOOPLINE_KAFKA_BROKERS): labels cannot be accepted'));
    this.connecting ??= (async () => {
      const producer = createEventProducer(kafka, { logger: this.logger, retries: 5 });
      await producer.connect();
      this.producer = producer;
      return producer;
    })().catch((error: unknown) => {
      this.connecting = undefined;
      throw new UnavailableError(`Kafka cannot be reached: ${error instanceof Error ? error.message : String(error)}`);
    });
    return this.connecting;
  }

  /** Publishes every label (one batch), resolving once Kafka acknowledged them all. */
  async publish(labels: readonly LabelToPublish[], now: Date): Promise<number> {
    const producer = await this.connected();
    const messages = labels.map((label) => {
      const message = create(LabelReceivedSchema, {
        predictionId: label.predictionId ?? '',
        modelName: label.modelName ?? '',
        entityKeys: { ...(label.entityKeys ?? {}) },
        targetName: label.targetName,
        value: fromJson(ValueSchema, label.value),
        eventTime: timestampFromMs(label.eventTime.getTime()),
      });
      return contractMessage({ topic: labelsTopic, key: labelKey(message), id: randomUUID(), source: '/loopline/monitoring', time: now, message });
    });
    try {
      await producer.publish(messages);
    } catch (error) {
      throw new UnavailableError(`publishing labels to Kafka failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    return messages.length;
  }

  async close(): Promise<void> {
    await this.producer?.disconnect();
  }
}
