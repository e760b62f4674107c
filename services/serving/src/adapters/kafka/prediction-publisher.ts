import { create, type JsonObject, type JsonValue } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { encodeEvent, PredictionLoggedSchema, TrafficRole } from '@loopline/contracts';
import type { EventProducer } from '@loopline/messaging';
import type { Logger } from '@loopline/telemetry';
import type { Kafka } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { nestedValues } from '../../domain/tensor/encode-outputs';
import type { Tensor } from '../../domain/tensor/tensor';
import type { PredictionRecord, PredictionRole } from '../../application/inference-service';
import type { LogMessage, PredictionPublisher } from '../../application/prediction-log';

export const predictionsTopic = 'loopline.serving.predictions.v1';

const roles: Record<PredictionRole, TrafficRole> = { primary: TrafficRole.PRIMARY, canary: TrafficRole.CANARY, shadow: TrafficRole.SHADOW };

export interface KafkaPredictionPublisherOptions {
  readonly kafka: Kafka;
  readonly producer: EventProducer;
  readonly logger: Logger;
  /** CloudEvents `source` of the events. */
  readonly source: string;
  /** Bound on one search of the topic for in-doubt records. */
  readonly reconcileTimeoutMs?: number;
}

/**
 * `PredictionLogged` events on `loopline.serving.predictions.v1` (key: model name), through the
 * platform's idempotent producer. The CloudEvents id is the prediction id, which makes a record
 * findable: `findPublished` reads the topic from a point in time to its current end and reports
 * which ids are already there (the spool uses it before re-sending a batch whose first send had
 * an unknown outcome).
 */
export class KafkaPredictionPublisher implements PredictionPublisher {
  constructor(private readonly options: KafkaPredictionPublisherOptions) {}

  encode(prediction: PredictionRecord): LogMessage {
    const message = create(PredictionLoggedSchema, {
      predictionId: prediction.predictionId,
      requestId: prediction.requestId,
      modelName: prediction.modelName,
      modelVersion: prediction.modelVersion,
      alias: prediction.alias,
      trafficRole: roles[prediction.role],
      inputs: byName(prediction.inputs),
      outputs: byName(prediction.outputs),
      latencyMs: prediction.latencyMs,
      predictedAt: timestampFromMs(prediction.predictedAt.getTime()),
    });
    const encoded = encodeEvent({
      topic: predictionsTopic,
      key: prediction.modelName,
      id: prediction.predictionId,
      source: this.options.source,
      time: prediction.predictedAt,
      subject: `${prediction.modelName}/${prediction.modelVersion}`,
      message,
    });
    return { id: prediction.predictionId, ...encoded };
  }

  async publish(messages: readonly LogMessage[]): Promise<void> {
    await this.options.producer.publish(messages.map((message) => ({ topic: predictionsTopic, key: message.key, value: message.value, headers: { ...message.headers }, timestamp: message.timestamp })));
  }

  async findPublished(ids: ReadonlySet<string>, sinceMs: number): Promise<Set<string>> {
    const { kafka } = this.options;
    const found = new Set<string>();
    const admin = kafka.admin();
    await admin.connect();
    let ends: Map<number, bigint>;
    let starts: Map<number, bigint>;
    try {
      const high = await admin.fetchTopicOffsets(predictionsTopic);
      const fromTime = await admin.fetchTopicOffsetsByTimestamp(predictionsTopic, Math.max(0, sinceMs));
      ends = new Map(high.map((partition) => [partition.partition, BigInt(partition.high)]));
      starts = new Map(fromTime.map((partition) => [partition.partition, BigInt(partition.offset)]));
    } finally {
      await admin.disconnect();
    }
    const remaining = new Set([...ends].filter(([partition, end]) => (starts.get(partition) ?? end) < end).map(([partition]) => partition));
    if (remaining.size === 0) return found;

    const groupId = `loopline-serving-reconcile-${randomUUID()}`;
    const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 200 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: predictionsTopic, fromBeginning: true });
      let finish!: () => void;
      const done = new Promise<void>((resolve) => (finish = resolve));
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const end = ends.get(batch.partition) ?? 0n;
          for (const record of batch.messages) {
            if (BigInt(record.offset) >= end) break;
            const id = record.headers?.ce_id;
            const text = Buffer.isBuffer(id) ? id.toString('utf8') : typeof id === 'string' ? id : undefined;
            if (text !== undefined && ids.has(text)) found.add(text);
          }
          const last = batch.messages.length > 0 ? BigInt(batch.messages[batch.messages.length - 1].offset) : -1n;
          if (last + 1n >= end) remaining.delete(batch.partition);
          if (remaining.size === 0 || found.size === ids.size) finish();
        },
      });
      // Start at the first record written since `sinceMs` rather than at the beginning.
      for (const [partition, offset] of starts) if (remaining.has(partition)) consumer.seek({ topic: predictionsTopic, partition, offset: offset.toString() });
      const timeoutMs = this.options.reconcileTimeoutMs ?? 60_000;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
      const outcome = await Promise.race([done.then(() => 'done' as const), timedOut]);
      clearTimeout(timer);
      if (outcome === 'timeout') throw new Error(`could not read ${predictionsTopic} to its end within ${timeoutMs} ms`);
      return found;
    } finally {
      await consumer.disconnect().catch(() => undefined);
      const cleanup = kafka.admin();
      await cleanup
        .connect()
        .then(() => cleanup.deleteGroups([groupId]))
        .catch(() => undefined)
        .finally(() => void cleanup.disconnect().catch(() => undefined));
    }
  }
}

function byName(tensors: readonly Tensor[]): JsonObject {
  const out: JsonObject = {};
  // nestedValues yields numbers, booleans, strings and null, nested in arrays: JSON values.
  for (const tensor of tensors) out[tensor.name] = nestedValues(tensor) as JsonValue;
  return out;
}
