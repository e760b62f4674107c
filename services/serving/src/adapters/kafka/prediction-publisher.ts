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
const roleNames: Record<PredictionRole, string> = { primary: 'TRAFFIC_ROLE_PRIMARY', canary: 'TRAFFIC_ROLE_CANARY', shadow: 'TRAFFIC_ROLE_SHADOW' };
const perEventHeaders = new Set(['ce_id', 'ce_time', 'ce_subject']);

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
  /** The headers every event shares, taken from the first event the contracts library encoded. */
  private template: Record<string, string> | undefined;

  constructor(private readonly options: KafkaPredictionPublisherOptions) {}

  /**
   * The CloudEvent of one prediction. The first is encoded by the contracts' `encodeEvent` (which
   * validates the envelope against the CloudEvents schema and the payload against the proto); it
   * becomes the template of the constant headers. Every later one is written directly: the
   * headers from the template plus its id, time and subject, the payload as the proto3 JSON that
   * `toJson` writes for `PredictionLogged` (defaults omitted, enum names, Struct as plain JSON).
   * Same bytes, a fraction of the CPU (the schema validation and the message object per
   * prediction were half the cost of a request, issue 3); `prediction-publisher.unit.spec.ts`
   * holds the two encodings equal.
   */
  encode(prediction: PredictionRecord): LogMessage {
    if (!this.template) {
      const message = this.encodeWithContracts(prediction);
      this.template = Object.fromEntries(Object.entries(message.headers).filter(([name]) => !perEventHeaders.has(name)));
      return message;
    }
    const time = prediction.predictedAt;
    const headers: Record<string, string> = { ...this.template, ce_id: prediction.predictionId, ce_time: time.toISOString(), ce_subject: `${prediction.modelName}/${prediction.modelVersion}` };
    return { id: prediction.predictionId, key: prediction.modelName, value: Buffer.from(predictionJson(prediction), 'utf8'), headers, timestamp: String(time.getTime()) };
  }

  /** The reference encoding, through the contracts library. */
  encodeWithContracts(prediction: PredictionRecord): LogMessage {
    const message = create(PredictionLoggedSchema, {
      predictionId: prediction.predictionId,
      requestId: prediction.requestId,
      modelName: prediction.modelName,
      modelVersion: prediction.modelVersion,
      alias: prediction.alias,
      trafficRole: roles[prediction.role],
      inputs: byName(prediction.inputs),
      outputs: byName(prediction.outputs),
      entityKeys: { ...prediction.entityKeys },
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

/** `PredictionLogged` as proto3 JSON, field for field what `toJson` writes (default values left out). */
export function predictionJson(prediction: PredictionRecord): string {
  let json = `{"predictionId":${JSON.stringify(prediction.predictionId)}`;
  if (prediction.requestId !== '') json += `,"requestId":${JSON.stringify(prediction.requestId)}`;
  if (prediction.modelName !== '') json += `,"modelName":${JSON.stringify(prediction.modelName)}`;
  if (prediction.modelVersion !== 0) json += `,"modelVersion":${prediction.modelVersion}`;
  if (prediction.alias !== '') json += `,"alias":${JSON.stringify(prediction.alias)}`;
  json += `,"trafficRole":"${roleNames[prediction.role]}"`;
  json += `,"inputs":${structJson(prediction.inputs)},"outputs":${structJson(prediction.outputs)}`;
  const keys = Object.keys(prediction.entityKeys);
  if (keys.length > 0) json += `,"entityKeys":${JSON.stringify(prediction.entityKeys)}`;
  if (prediction.latencyMs !== 0) json += `,"latencyMs":${doubleJson(prediction.latencyMs)}`;
  json += `,"predictedAt":"${timestampJson(prediction.predictedAt.getTime())}"}`;
  return json;
}

function structJson(tensors: readonly Tensor[]): string {
  let json = '{';
  tensors.forEach((tensor, index) => {
    json += `${index === 0 ? '' : ','}${JSON.stringify(tensor.name)}:${JSON.stringify(nestedValues(tensor))}`;
  });
  return `${json}}`;
}

function doubleJson(value: number): string {
  if (Number.isNaN(value)) return '"NaN"';
  if (value === Infinity) return '"Infinity"';
  if (value === -Infinity) return '"-Infinity"';
  return JSON.stringify(value);
}

/** RFC 3339 in UTC with 0, 3 digits of fraction, as protobuf-es writes a Timestamp of whole milliseconds. */
function timestampJson(ms: number): string {
  const text = new Date(ms).toISOString();
  return ms % 1000 === 0 ? `${text.slice(0, 19)}Z` : text;
}
