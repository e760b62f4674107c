// The sink from Kafka into ClickHouse: predictions (`PredictionLogged`, one event may carry a batch
// of rows) and ground-truth labels (`LabelReceived`).
//
// Records are decoded through their contract, turned into rows and buffered across fetches; the
// buffer is written with one insert per table when it holds `insertRows` rows or is `flushMs` old,
// and only then are the offsets committed. A crash between insert and commit redelivers the tail
// of the buffer, which the tables' ReplacingMergeTree keys (prediction id + row, label event id)
// collapse, and FINAL reads count once: counts stay exact under redelivery.
import { getTopic, decodeEvent, entityKey, isEvent, LabelReceivedSchema, PredictionLoggedSchema, TrafficRole, type PredictionLogged, type LabelReceived } from '@loopline/contracts';
import { toJson } from '@bufbuild/protobuf';
import { timestampMs, ValueSchema } from '@bufbuild/protobuf/wkt';
import { ensureTopics } from '@loopline/messaging';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from '@loopline/telemetry';
import { labelRow, predictionRows, type Json, type LabelRow, type PredictionRow, type TrafficRoleName } from '../../domain/log/prediction-rows';
import type { ClickHouseLogStore } from '../clickhouse/log-store';

export const predictionsTopic = 'loopline.serving.predictions.v1';
export const labelsTopic = 'loopline.feedback.labels.v1';

export interface LogSinkOptions {
  readonly groupId: string;
  readonly insertRows: number;
  readonly flushMs: number;
  readonly replicationFactor: number;
  readonly logger: Logger;
  /** Called after every flush with what was written (metrics, default monitors). */
  readonly onFlushed?: (flushed: FlushedBatch) => void;
  readonly now?: () => number;
}

export interface FlushedBatch {
  readonly predictions: readonly PredictionRow[];
  readonly labels: readonly LabelRow[];
  readonly rejected: number;
}

interface PendingOffset {
  readonly topic: string;
  readonly partition: number;
  /** The next offset to read (last handled + 1). */
  offset: bigint;
}

const roles: Record<number, TrafficRoleName> = {
  [TrafficRole.UNSPECIFIED]: 'unspecified',
  [TrafficRole.PRIMARY]: 'primary',
  [TrafficRole.CANARY]: 'canary',
  [TrafficRole.SHADOW]: 'shadow',
};

export function rowsOfPrediction(event: PredictionLogged): PredictionRow[] {
  return predictionRows({
    predictionId: event.predictionId,
    requestId: event.requestId,
    modelName: event.modelName,
    modelVersion: event.modelVersion,
    alias: event.alias,
    trafficRole: roles[event.trafficRole] ?? 'unspecified',
    inputs: (event.inputs ?? {}) as { [name: string]: Json },
    outputs: (event.outputs ?? {}) as { [name: string]: Json },
    entityKeys: event.entityKeys,
    entityKey: Object.keys(event.entityKeys).length === 0 ? '' : entityKey(event.entityKeys),
    latencyMs: event.latencyMs,
    predictedAtMs: event.predictedAt ? timestampMs(event.predictedAt) : 0,
  });
}

export function rowOfLabel(eventId: string, event: LabelReceived, receivedAtMs: number): LabelRow {
  return labelRow({
    labelId: eventId,
    predictionId: event.predictionId,
    modelName: event.modelName,
    entityKey: Object.keys(event.entityKeys).length === 0 ? '' : entityKey(event.entityKeys),
    targetName: event.targetName,
    value: event.value ? (toJson(ValueSchema, event.value) as Json) : null,
    eventTimeMs: event.eventTime ? timestampMs(event.eventTime) : receivedAtMs,
    receivedAtMs,
  });
}

export class LogSink {
  private consumer: Consumer | undefined;
  private predictions: PredictionRow[] = [];
  private labels: LabelRow[] = [];
  private rejected = 0;
  private offsets = new Map<string, PendingOffset>();
  private oldestMs: number | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly now: () => number;

  constructor(
    private readonly kafka: Kafka,
    private readonly store: ClickHouseLogStore,
    private readonly options: LogSinkOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  get isRunning(): boolean {
    return this.running;
  }

  async start(): Promise<void> {
    await this.store.ready();
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(
        admin,
        [predictionsTopic, labelsTopic].map((topic) => ({ topic, numPartitions: getTopic(topic).partitions ?? 1, replicationFactor: this.options.replicationFactor })),
      );
    } finally {
      await admin.disconnect();
    }
    const consumer = this.kafka.consumer({
      groupId: this.options.groupId,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      maxWaitTimeInMs: 200,
      maxBytesPerPartition: 8 * 1024 * 1024,
      maxBytes: 64 * 1024 * 1024,
      allowAutoTopicCreation: false,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => this.options.logger.error({ err: payload.error, restart: payload.restart }, 'prediction-log sink crashed'));
    await consumer.connect();
    // From the beginning: a new group (first start, or offsets expired) reads the whole retained
    // log; the ReplacingMergeTree keys make a re-read harmless.
    await consumer.subscribe({ topics: [predictionsTopic, labelsTopic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.take(payload),
    });
    this.running = true;
    this.timer = setInterval(() => {
      if (this.oldestMs !== undefined && this.now() - this.oldestMs >= this.options.flushMs) void this.flush().catch(() => undefined);
    }, Math.max(20, Math.floor(this.options.flushMs / 4)));
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.running = false;
    const consumer = this.consumer;
    this.consumer = undefined;
    if (!consumer) return;
    try {
      await consumer.stop();
      await this.flush().catch((error: unknown) => this.options.logger.warn({ err: error }, 'final flush of the prediction log failed; Kafka redelivers it'));
    } finally {
      await consumer.disconnect();
    }
  }

  private async take({ batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload): Promise<void> {
    if (!isRunning() || isStale()) return;
    const receivedAt = this.now();
    const key = `${batch.topic}:${batch.partition}`;
    for (const message of batch.messages) {
      try {
        if (batch.topic === predictionsTopic) {
          const decoded = decodeEvent(message, predictionsTopic);
          if (isEvent(decoded, PredictionLoggedSchema)) for (const row of rowsOfPrediction(decoded.message)) this.predictions.push(row);
        } else if (batch.topic === labelsTopic) {
          const decoded = decodeEvent(message, labelsTopic);
          if (isEvent(decoded, LabelReceivedSchema)) this.labels.push(rowOfLabel(decoded.id, decoded.message, receivedAt));
        }
      } catch (error) {
        // A record that breaks its contract can never be stored: counted, logged, skipped.
        this.rejected += 1;
        this.options.logger.warn({ err: error, topic: batch.topic, partition: batch.partition, offset: message.offset }, 'skipped a record that breaks its contract');
      }
      this.offsets.set(key, { topic: batch.topic, partition: batch.partition, offset: BigInt(message.offset) + 1n });
      // Moves the fetch position on (autoCommit is off: nothing is committed before the flush).
      resolveOffset(message.offset);
      this.oldestMs ??= receivedAt;
      // Inserts stay bounded: a large fetch is written in several inserts of `insertRows` rows.
      if (this.predictions.length + this.labels.length >= this.options.insertRows) {
        if (!isRunning() || isStale()) return;
        await this.flush();
        await heartbeat();
      }
    }
    await heartbeat();
  }

  /** Writes the buffer (one insert per table), then commits the offsets it covered. Serialized. */
  flush(): Promise<void> {
    this.flushing = this.flushing.catch(() => undefined).then(() => this.flushNow());
    return this.flushing;
  }

  private async flushNow(): Promise<void> {
    if (this.offsets.size === 0 && this.predictions.length === 0 && this.labels.length === 0) return;
    const predictions = this.predictions;
    const labels = this.labels;
    const offsets = [...this.offsets.values()];
    const rejected = this.rejected;
    this.predictions = [];
    this.labels = [];
    this.offsets = new Map();
    this.rejected = 0;
    this.oldestMs = undefined;
    try {
      await this.store.insertPredictions(predictions);
      await this.store.insertLabels(labels);
    } catch (error) {
      // Put the rows back in front, so the next flush retries them before newer ones.
      this.predictions = predictions.concat(this.predictions);
      this.labels = labels.concat(this.labels);
      for (const pending of offsets) {
        const key = `${pending.topic}:${pending.partition}`;
        if (!this.offsets.has(key)) this.offsets.set(key, pending);
      }
      this.rejected += rejected;
      this.oldestMs = this.now();
      this.options.logger.warn({ err: error, rows: predictions.length + labels.length }, 'writing the prediction log to ClickHouse failed; retrying');
      throw error;
    }
    if (this.consumer && offsets.length > 0) {
      try {
        await this.consumer.commitOffsets(offsets.map((pending) => ({ topic: pending.topic, partition: pending.partition, offset: pending.offset.toString() })));
      } catch (error) {
        // The rows are stored; an uncommitted offset only means a harmless redelivery.
        this.options.logger.warn({ err: error }, 'committing prediction-log offsets failed; the records will be redelivered and deduplicated');
      }
    }
    this.options.onFlushed?.({ predictions, labels, rejected });
  }
}
