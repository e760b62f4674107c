// Sources fed from Kafka topics of rows (one JSON object per message), micro-batched into dataset
// versions: a batch is ingested like an upload (parsed as the source's schema, validated, stored
// content-addressed, DatasetVersionCreated/Rejected published) when it holds `maxRows` rows or
// when its first message has waited `maxIntervalMs`, whichever comes first.
//
// Exactly once, across crashes and restarts:
// - Offsets are committed to Kafka only after the batch's version is recorded in the event store,
//   so a crash before that redelivers the rows (nothing is lost).
// - The batch's offsets are recorded with the version (its origin), and rows at offsets already
//   recorded are skipped when redelivered — a crash between recording and committing, or a
//   rebalance, never puts a row in two versions. (An identical batch is the same version anyway.)
// - A message that is not one JSON object, and a batch the engine cannot read as the schema (a
//   declared column missing, a value of the wrong type), go to `<topic>.dlq` with the reason in
//   headers, and the stream moves on; transient failures (database, artifact store) are retried
//   with backoff while the topic is paused.
//
// Each source runs one consumer in the group `ingestion-stream.<source>.<topic>`, starting from
// the topic's earliest offset; replicas share the partitions. Which sources stream is read from the
// event store every few seconds, so a PUT or DELETE on any replica, and a restart, take effect.
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { isLooplineError } from '@loopline/errors';
import { createEventProducer, deadLetterHeaders, defaultDeadLetterTopic, ensureTopics, type EventProducer } from '@loopline/messaging';
import type { Logger } from '@loopline/telemetry';
import type { IngestionApplication } from '../../application/ingestion-application';
import type { StreamOffsetRange, StreamSettings } from '../../domain/source/data-source';

export interface StreamStatus {
  readonly state: 'starting' | 'consuming' | 'retrying' | 'stopped';
  /** Rows waiting for the next batch. */
  readonly pendingRows: number;
  /** Batches ingested by this process, and their rows. */
  readonly batches: number;
  readonly rows: number;
  /** Messages sent to `<topic>.dlq` (not a JSON object, or in a batch the schema refused). */
  readonly deadLettered: number;
  readonly lastVersionId: string | null;
  readonly lastStatus: string | null;
  readonly lastBatchAt: string | null;
  readonly lastError: string | null;
}

export interface SourceStreamsOptions {
  readonly kafka: Kafka;
  readonly ingestion: IngestionApplication;
  readonly storage: { streamingSources(): Promise<string[]> };
  readonly logger: Logger;
  readonly replicationFactor: number;
  /** How often the configured streams are read again (changes made on other replicas). */
  readonly reconcileMs?: number;
}

export function streamGroupId(source: string, topic: string): string {
  return `ingestion-stream.${source}.${topic}`;
}

/** Runs one feed per source that has a stream configured. */
export class SourceStreams {
  private readonly feeds = new Map<string, SourceFeed>();
  private timer: NodeJS.Timeout | undefined;
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;
  private producer: EventProducer | undefined;

  constructor(private readonly options: SourceStreamsOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.reconcile(), this.options.reconcileMs ?? 5_000);
    void this.reconcile();
  }

  /** Starts, restarts or stops feeds to match the event store; serialized. */
  reconcile(): Promise<void> {
    this.queue = this.queue.then(() => this.reconcileNow()).catch((error: unknown) => this.options.logger.warn({ err: error }, 'could not read the configured streams yet; will retry'));
    return this.queue;
  }

  status(source: string): StreamStatus | null {
    return this.feeds.get(source)?.snapshot() ?? null;
  }

  private async reconcileNow(): Promise<void> {
    if (this.stopped) return;
    const desired = new Map<string, StreamSettings>();
    for (const source of await this.options.storage.streamingSources()) {
      const view = await this.options.ingestion.getSource(source);
      if (view.stream) desired.set(source, { topic: view.stream.topic, maxRows: view.stream.maxRows, maxIntervalMs: view.stream.maxIntervalMs });
    }
    for (const [source, feed] of this.feeds) {
      const wanted = desired.get(source);
      if (!wanted || !sameSettings(wanted, feed.settings)) {
        this.feeds.delete(source);
        await feed.stop();
        this.options.logger.info({ source, topic: feed.settings.topic }, wanted ? 'stream settings changed; restarting the feed' : 'stream stopped');
      }
    }
    for (const [source, settings] of desired) {
      if (this.feeds.has(source) || this.stopped) continue;
      this.producer ??= createEventProducer(this.options.kafka, { logger: this.options.logger });
      const feed = new SourceFeed(source, settings, this.options, this.producer);
      this.feeds.set(source, feed);
      feed.start();
      this.options.logger.info({ source, ...settings }, `feeding source "${source}" from topic ${settings.topic}`);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.queue;
    await Promise.all([...this.feeds.values()].map((feed) => feed.stop()));
    this.feeds.clear();
    await this.producer?.disconnect();
  }
}

function sameSettings(a: StreamSettings, b: StreamSettings): boolean {
  return a.topic === b.topic && a.maxRows === b.maxRows && a.maxIntervalMs === b.maxIntervalMs;
}

/** A message as read, kept until its batch is recorded (to dead-letter it as it was). */
interface ReadMessage {
  readonly partition: number;
  readonly message: KafkaMessage;
}

interface PendingBatch {
  lines: string[];
  /** The messages of `lines`, in the same order. */
  read: ReadMessage[];
  /** Messages that are not JSON objects: dead-lettered with the batch. */
  rejected: ReadMessage[];
  ranges: Map<number, { from: string; to: string }>;
}

const emptyBatch = (): PendingBatch => ({ lines: [], read: [], rejected: [], ranges: new Map() });

/** One source's consumer and its pending batch. */
class SourceFeed {
  private status: { -readonly [K in keyof StreamStatus]: StreamStatus[K] } = {
    state: 'starting',
    pendingRows: 0,
    batches: 0,
    rows: 0,
    deadLettered: 0,
    lastVersionId: null,
    lastStatus: null,
    lastBatchAt: null,
    lastError: null,
  };
  private consumer: Consumer | undefined;
  private batch: PendingBatch = emptyBatch();
  /** Per partition, the offset after the last one recorded in a version: lower offsets are skipped. */
  private recordedNext = new Map<number, bigint>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private paused = false;
  private stopping = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly logger: Logger;

  constructor(
    private readonly source: string,
    readonly settings: StreamSettings,
    private readonly options: SourceStreamsOptions,
    private readonly producer: EventProducer,
  ) {
    this.logger = options.logger.child({ component: 'source-stream', source, topic: settings.topic });
  }

  snapshot(): StreamStatus {
    return { ...this.status, pendingRows: this.batch.lines.length };
  }

  start(): void {
    this.loop ??= this.startWithRetries();
  }

  private async startWithRetries(): Promise<void> {
    for (let attempt = 1; !this.stopping; attempt += 1) {
      try {
        await this.connect();
        this.status.state = 'consuming';
        this.status.lastError = null;
        return;
      } catch (error) {
        await this.consumer?.disconnect().catch(() => undefined);
        this.consumer = undefined;
        this.status.state = 'retrying';
        this.status.lastError = messageOf(error);
        this.logger.warn({ err: error, attempt }, 'could not start consuming the stream; retrying');
        await this.sleep(Math.min(10_000, 500 * 2 ** Math.min(attempt - 1, 10)));
      }
    }
  }

  private async connect(): Promise<void> {
    const { kafka } = this.options;
    const { topic } = this.settings;
    const admin = kafka.admin();
    await admin.connect();
    try {
      // A topic nobody created yet is created (1 partition); an existing one is left as it is.
      await ensureTopics(admin, [{ topic, numPartitions: 1, replicationFactor: this.options.replicationFactor, withDeadLetterTopic: true }]);
    } finally {
      await admin.disconnect();
    }
    await this.loadRecordedOffsets();
    if (this.stopping) return;
    const consumer = kafka.consumer({
      groupId: streamGroupId(this.source, topic),
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      maxWaitTimeInMs: 250,
      allowAutoTopicCreation: false,
      // kafkajs gives up for good on some errors (a broker still loading its offsets topic); restart instead.
      retry: { restartOnFailure: async () => true },
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.status.lastError = messageOf(payload.error);
      this.logger.warn({ err: payload.error, restart: payload.restart }, 'stream consumer crashed; kafkajs restarts it');
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, () => void this.onRebalance());
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (payload) => this.onBatch(payload) });
  }

  private async loadRecordedOffsets(): Promise<void> {
    const recorded = await this.options.ingestion.recordedStreamOffsets(this.source, this.settings.topic);
    this.recordedNext = new Map([...recorded].map(([partition, offset]) => [partition, BigInt(offset)]));
  }

  /**
   * After a rebalance kafkajs fetches again from the committed offsets: what is pending would be
   * read twice, so it is dropped (unless a flush is recording it; rows it records are skipped).
   */
  private async onRebalance(): Promise<void> {
    try {
      await this.loadRecordedOffsets();
    } catch (error) {
      this.logger.warn({ err: error }, 'could not reload the recorded stream offsets');
    }
    if (!this.flushing) this.clearBatch();
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    for (const message of batch.messages) {
      if (!isRunning() || isStale() || this.stopping) return;
      // A batch is being recorded (or is full): stop here; the unresolved messages come again after resume.
      if (this.flushing || this.batch.lines.length >= this.settings.maxRows) {
        this.pause();
        return;
      }
      this.accept(batch.partition, message);
      resolveOffset(message.offset);
    }
    await heartbeat();
  }

  private accept(partition: number, message: KafkaMessage): void {
    const recorded = this.recordedNext.get(partition);
    if (recorded !== undefined && BigInt(message.offset) < recorded) return; // already in a recorded version
    const range = this.batch.ranges.get(partition);
    this.batch.ranges.set(partition, { from: range?.from ?? message.offset, to: message.offset });
    const row = rowOf(message.value);
    if (row === null) this.batch.rejected.push({ partition, message });
    else {
      this.batch.lines.push(row);
      this.batch.read.push({ partition, message });
    }
    this.timer ??= setTimeout(() => void this.flush(), this.settings.maxIntervalMs);
    if (this.batch.lines.length >= this.settings.maxRows) void this.flush();
  }

  /** Records the pending batch (retrying transient failures), commits its offsets, resumes. */
  private flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.batch;
    if (batch.lines.length === 0 && batch.rejected.length === 0) return Promise.resolve();
    this.pause();
    this.flushing = this.record(batch).finally(() => {
      this.flushing = undefined;
      if (!this.stopping) this.resume();
    });
    return this.flushing;
  }

  private async record(batch: PendingBatch): Promise<void> {
    const { topic } = this.settings;
    const offsets: StreamOffsetRange[] = [...batch.ranges].map(([partition, range]) => ({ partition, from: range.from, to: range.to }));
    for (let attempt = 1; !this.stopping; attempt += 1) {
      try {
        if (batch.rejected.length > 0) {
          await this.deadLetter(batch.rejected, 'unparseable', 'NOT_A_JSON_OBJECT', 'the message is not one JSON object (one row per message)');
          batch.rejected = [];
        }
        if (batch.lines.length > 0) {
          try {
            const result = await this.options.ingestion.ingestStreamBatch({ source: this.source, topic, lines: batch.lines, offsets }, { actor: `stream:${topic}` });
            this.status.batches += 1;
            this.status.rows += batch.lines.length;
            this.status.lastVersionId = result.versionId;
            this.status.lastStatus = result.status;
            this.logger.info({ versionId: result.versionId, status: result.status, rows: result.rowCount }, `stream batch of ${batch.lines.length} rows: ${result.status}`);
          } catch (error) {
            // The batch can never be read as the schema: it goes aside and the stream moves on.
            if (!isLooplineError(error) || error.code !== 'VALIDATION') throw error;
            this.logger.warn({ err: error, rows: batch.lines.length }, 'stream batch refused; sent to the dead-letter topic');
            await this.deadLetter(batch.read, 'non-retryable', 'BATCH_REFUSED', error.message);
            this.status.lastError = `batch of ${batch.lines.length} rows refused: ${error.message}`;
          }
          batch.lines = [];
          batch.read = [];
        }
        const consumer = this.consumer;
        if (consumer && offsets.length > 0) {
          await consumer.commitOffsets(offsets.map((range) => ({ topic, partition: range.partition, offset: (BigInt(range.to) + 1n).toString() })));
        }
        for (const range of offsets) {
          const next = BigInt(range.to) + 1n;
          if ((this.recordedNext.get(range.partition) ?? -1n) < next) this.recordedNext.set(range.partition, next);
        }
        this.status.lastBatchAt = new Date().toISOString();
        this.status.state = 'consuming';
        if (this.batch === batch) this.batch = emptyBatch();
        return;
      } catch (error) {
        this.status.state = 'retrying';
        this.status.lastError = messageOf(error);
        this.logger.warn({ err: error, attempt }, 'could not record a stream batch; retrying');
        await this.sleep(Math.min(10_000, 250 * 2 ** Math.min(attempt - 1, 10)));
      }
    }
  }

  /** Copies of the messages, as they were, on `<topic>.dlq`, with the messaging library's dead-letter headers. */
  private async deadLetter(messages: readonly ReadMessage[], reason: 'unparseable' | 'non-retryable', code: string, errorMessage: string): Promise<void> {
    const topic = defaultDeadLetterTopic(this.settings.topic);
    const failedAt = new Date().toISOString();
    await this.producer.publish(
      messages.map(({ partition, message }) => ({
        topic,
        key: message.key,
        value: message.value,
        headers: {
          ...(message.headers ?? {}),
          [deadLetterHeaders.reason]: reason,
          [deadLetterHeaders.errorCode]: code,
          [deadLetterHeaders.errorMessage]: errorMessage.slice(0, 1_000),
          [deadLetterHeaders.originalTopic]: this.settings.topic,
          [deadLetterHeaders.originalPartition]: String(partition),
          [deadLetterHeaders.originalOffset]: message.offset,
          [deadLetterHeaders.attempts]: '0',
          [deadLetterHeaders.failedAt]: failedAt,
          'loopline-dlq-source': this.source,
        },
      })),
    );
    this.status.deadLettered += messages.length;
  }

  private pause(): void {
    if (this.paused || !this.consumer) return;
    this.paused = true;
    this.consumer.pause([{ topic: this.settings.topic }]);
  }

  private resume(): void {
    if (!this.paused || !this.consumer) return;
    this.paused = false;
    this.consumer.resume([{ topic: this.settings.topic }]);
  }

  private clearBatch(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.batch = emptyBatch();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Stops consuming; a pending batch not yet recorded is read again by the next consumer. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    if (this.timer) clearTimeout(this.timer);
    await this.loop;
    await this.flushing;
    await this.consumer?.disconnect();
    this.status.state = 'stopped';
  }
}

/** The message as one JSON Lines row, or null when it is not one JSON object. */
function rowOf(value: Buffer | null): string | null {
  if (value === null || value.length === 0) return null;
  try {
    const parsed: unknown = JSON.parse(value.toString('utf8'));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
    return JSON.stringify(parsed);
  } catch {
    return null;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
