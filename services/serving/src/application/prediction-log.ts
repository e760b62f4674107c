import type { Logger } from '@loopline/telemetry';
import type { PredictionRecord, PredictionRecorder } from './inference-service';

/** One prediction encoded for Kafka (a `PredictionLogged` CloudEvent); `id` is its event id. */
export interface LogMessage {
  readonly id: string;
  readonly key: string;
  readonly value: Buffer;
  readonly headers: Readonly<Record<string, string>>;
  readonly timestamp: string;
}

/** The prediction topic, behind a port. */
export interface PredictionPublisher {
  encode(prediction: PredictionRecord): LogMessage;
  /** Resolves once every message is acknowledged by the brokers; rejects if any may be missing. */
  publish(messages: readonly LogMessage[]): Promise<void>;
  /** Which of `ids` are on the topic already, looking at records written since `sinceMs` (epoch ms). */
  findPublished(ids: ReadonlySet<string>, sinceMs: number): Promise<Set<string>>;
}

/** One spooled batch. */
export interface SpoolRecord {
  readonly messages: readonly LogMessage[];
  /** When a send of this batch was first tried (epoch ms); null when it never was. */
  readonly firstAttemptAt: number | null;
}

/** The local, durable, append-only queue of batches Kafka has not acknowledged yet. */
export interface PredictionSpool {
  readonly isEmpty: boolean;
  readonly sizeBytes: number;
  /** Writes and fsyncs the record at the tail; false when the size bound refused it. */
  append(record: SpoolRecord): Promise<boolean>;
  /** The oldest record, if any. */
  head(): Promise<SpoolRecord | undefined>;
  /** Removes the oldest record (durably). */
  ack(): Promise<void>;
  close(): Promise<void>;
}

export interface PredictionLogMetrics {
  published(count: number): void;
  spooled(count: number): void;
  dropped(count: number, reason: string): void;
  replayed(count: number): void;
}

export interface PredictionLogOptions {
  readonly publisher: PredictionPublisher;
  readonly spool: PredictionSpool;
  readonly logger: Logger;
  readonly metrics: PredictionLogMetrics;
  readonly batchSize: number;
  readonly flushIntervalMs: number;
  readonly retryIntervalMs: number;
  readonly sendTimeoutMs: number;
  /** Whether the spool may hold batches whose send outcome is unknown (true after a restart with a spool). */
  readonly spoolHeadInDoubt: boolean;
  readonly now: () => number;
}

/** How far before a batch's first send the topic is searched for its records (clock skew between us and the broker). */
const reconcileMarginMs = 60_000;

/**
 * The prediction log: every prediction reaches `loopline.serving.predictions.v1` exactly once, in
 * order, and the response never waits for it.
 *
 * `record` only appends to memory. One loop sends batches. While Kafka acknowledges, batches go
 * straight to it. When a send fails or outlives `sendTimeoutMs`, that batch and every later one go
 * to the spool (append-only file, fsync per batch) instead, and the loop replays the spool from
 * its head, in order, until it is empty; then batches go straight to Kafka again.
 *
 * A batch whose send failed may still have reached the topic (the acknowledgement was lost): such
 * a batch is "in doubt", and before it is sent again the topic is searched for its event ids so
 * that none is written twice. A batch never tried, or tried with a known outcome, skips the search.
 */
export class PredictionLog implements PredictionRecorder {
  private pending: PredictionRecord[] = [];
  private headInDoubt: boolean;
  /** A send that outlived its timeout; its batch is the spool's head. */
  private lingering: Promise<boolean> | undefined;
  private stopped = false;
  /** When sends started failing; undefined while Kafka acknowledges. */
  private failingSince: number | undefined;
  private loopDone: Promise<void> = Promise.resolve();
  private wakeUp: (() => void) | undefined;
  private ticker: NodeJS.Timeout | undefined;
  /** Serializes the decisions that move pending predictions (spool vs. direct send), so order holds. */
  private exclusive: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: PredictionLogOptions) {
    this.headInDoubt = options.spoolHeadInDoubt;
  }

  /** Predictions waiting in memory. */
  get backlog(): number {
    return this.pending.length;
  }

  start(): void {
    this.ticker = setInterval(() => this.onTick(), this.options.flushIntervalMs);
    this.ticker.unref();
    this.loopDone = this.loop();
  }

  record(prediction: PredictionRecord): void {
    this.pending.push(prediction);
    if (this.pending.length >= this.options.batchSize) this.onTick();
  }

  /** Stops the loop, then sends what is pending (or spools it when Kafka does not take it in time). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    this.wakeUp?.();
    await this.loopDone;
    if (this.options.spool.isEmpty && !this.lingering) {
      while (this.pending.length > 0 && this.options.spool.isEmpty) await this.sendDirect();
    }
    await this.spillPending();
    await this.options.spool.close();
  }

  private onTick(): void {
    if (!this.options.spool.isEmpty) void this.spillPending();
    this.wakeUp?.();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
      });
      this.wakeUp = undefined;
      // Drain as long as there is work; wait for the next tick once there is none (or after a failure).
      while (!this.stopped) {
        let progressed: boolean;
        try {
          progressed = await this.step();
        } catch (error) {
          // One warning per outage, not one per retry.
          const fields = { err: error, spoolBytes: this.options.spool.sizeBytes };
          if (this.failingSince === undefined) {
            this.failingSince = this.options.now();
            this.options.logger.warn(fields, `prediction log: Kafka unavailable; predictions are spooled to disk and replayed when it is back (retrying every ${this.options.retryIntervalMs} ms)`);
          } else {
            this.options.logger.debug(fields, 'prediction log: Kafka still unavailable');
          }
          await this.sleep(this.options.retryIntervalMs);
          continue;
        }
        if (this.failingSince !== undefined && this.options.spool.isEmpty) {
          this.options.logger.info({ outageMs: this.options.now() - this.failingSince }, 'prediction log: Kafka is back and the spool is replayed');
          this.failingSince = undefined;
        }
        if (!progressed) break;
      }
    }
  }

  /** One unit of work; false when there was nothing to do. Throws when Kafka failed (retry later). */
  private async step(): Promise<boolean> {
    if (this.options.spool.isEmpty && !this.lingering) {
      if (this.pending.length === 0) return false;
      await this.sendDirect();
      return true;
    }
    await this.spillPending();
    await this.replayHead();
    return !this.options.spool.isEmpty || this.pending.length > 0;
  }

  /** Sends the oldest pending batch straight to Kafka; on failure or timeout it becomes the spool's head. */
  private async sendDirect(): Promise<void> {
    const batch = await this.serialized(async () => (this.options.spool.isEmpty ? this.pending.splice(0, this.options.batchSize) : []));
    if (batch.length === 0) return;
    const messages = this.encodeAll(batch);
    if (messages.length === 0) return;
    const attemptedAt = this.options.now();
    const sending = this.options.publisher.publish(messages).then(
      () => true,
      (error: unknown) => {
        if (this.failingSince === undefined) this.options.logger.warn({ err: error }, 'prediction log: sending a batch failed; spooling it');
        return false;
      },
    );
    const outcome = await Promise.race([sending, sleep(this.options.sendTimeoutMs).then(() => 'timeout' as const)]);
    if (outcome === true) {
      this.options.metrics.published(messages.length);
      return;
    }
    // Failed or still running: the batch heads the spool, in doubt, and everything later follows it.
    await this.serialized(() => this.appendToSpool({ messages, firstAttemptAt: attemptedAt }));
    this.headInDoubt = true;
    if (outcome === 'timeout') this.lingering = sending;
  }

  /** Moves every pending prediction to the spool's tail (used whenever the spool is not empty). */
  private spillPending(): Promise<void> {
    return this.serialized(async () => {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, this.options.batchSize);
        const messages = this.encodeAll(batch);
        if (messages.length > 0) await this.appendToSpool({ messages, firstAttemptAt: null });
      }
    });
  }

  /** Sends the spool's head — after making sure none of it is on the topic already — then removes it. */
  private async replayHead(): Promise<void> {
    if (this.lingering) {
      const delivered = await this.lingering;
      this.lingering = undefined;
      if (delivered) {
        const head = await this.options.spool.head();
        await this.serialized(() => this.options.spool.ack());
        this.headInDoubt = false;
        this.options.metrics.published(head?.messages.length ?? 0);
        return;
      }
    }
    const head = await this.options.spool.head();
    if (!head) return;
    let messages = head.messages;
    if (this.headInDoubt || head.firstAttemptAt !== null) {
      const since = (head.firstAttemptAt ?? this.options.now()) - reconcileMarginMs;
      const present = await this.options.publisher.findPublished(new Set(messages.map((message) => message.id)), since);
      if (present.size > 0) {
        this.options.logger.info({ alreadyPublished: present.size, batch: messages.length }, 'prediction log: part of a spooled batch had reached Kafka already; sending only the rest');
      }
      messages = messages.filter((message) => !present.has(message.id));
    }
    if (messages.length > 0) {
      this.headInDoubt = true;
      await this.options.publisher.publish(messages);
    }
    await this.serialized(() => this.options.spool.ack());
    this.headInDoubt = false;
    this.options.metrics.replayed(messages.length);
    this.options.metrics.published(messages.length);
  }

  private async appendToSpool(record: SpoolRecord): Promise<void> {
    const kept = await this.options.spool.append(record);
    if (kept) this.options.metrics.spooled(record.messages.length);
    else {
      this.options.metrics.dropped(record.messages.length, 'spool-full');
      this.options.logger.error({ count: record.messages.length, spoolBytes: this.options.spool.sizeBytes }, 'prediction log: the spool is full; predictions dropped');
    }
  }

  private encodeAll(batch: readonly PredictionRecord[]): LogMessage[] {
    const messages: LogMessage[] = [];
    for (const prediction of batch) {
      try {
        messages.push(this.options.publisher.encode(prediction));
      } catch (error) {
        this.options.metrics.dropped(1, 'unencodable');
        this.options.logger.error({ err: error, model: prediction.modelName }, 'prediction log: a prediction could not be encoded; dropped');
      }
    }
    return messages;
  }

  private serialized<T>(task: () => Promise<T>): Promise<T> {
    const run = this.exclusive.then(task, task);
    this.exclusive = run.catch(() => undefined);
    return run;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeUp = () => {
        if (this.stopped) {
          clearTimeout(timer);
          resolve();
        }
      };
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
