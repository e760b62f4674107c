import type { Batch, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { type BackoffPolicy, defaultBackoff } from './backoff';
import { type ConsumerLifecycleEvent, type ConsumerState, nextConsumerState } from './consumer-state';
import { defaultDeadLetterTopic } from './dead-letter';
import { createEventProducer, type EventProducer } from './event-producer';
import { MessagingError } from './messaging-error';
import type { ConsumedRecord } from './message-types';
import { deliverRecord, type DeliveryPolicy, type HandleEvent, type ParseRecord } from './record-delivery';

export interface GroupSettings {
  /** The broker evicts a member it has not heard from for this long. Broker bounds: 6 s – 30 min by default. */
  readonly sessionTimeoutMs?: number;
  /** How often heartbeats go out, between records and during backoff; a third of the session or less. */
  readonly heartbeatIntervalMs?: number;
  /** How long the coordinator waits for members to rejoin during a rebalance. */
  readonly rebalanceTimeoutMs?: number;
  /** Longest a fetch waits for data; also bounds how long `stop()` waits for an idle fetch. */
  readonly maxWaitTimeMs?: number;
  /** Caps the work of one batch, so heartbeats and `stop()` are never far away (REFERENCE 6.3). */
  readonly maxBytesPerPartition?: number;
  /** Partitions handled in parallel (records of one partition are always handled in order). */
  readonly partitionsConsumedConcurrently?: number;
  /** kafkajs' retries of failed group operations before the consumer crashes (and restarts). */
  readonly retry?: { readonly initialRetryTimeMs?: number; readonly maxRetryTimeMs?: number; readonly retries?: number };
}

export interface CommitSettings {
  /** Commit handled offsets at least this often… */
  readonly intervalMs?: number;
  /** …or as soon as this many records were handled since the last commit. */
  readonly threshold?: number;
}

export interface SubscriptionOptions<TEvent> {
  /** One group per application (REFERENCE 6.3); members of a group share the partitions. */
  readonly groupId: string;
  readonly topics: readonly string[];
  /**
   * Where a group with no committed offset starts. Required, never defaulted: a group whose offsets
   * expired starts here again (kafkajs#1414), so the choice must be deliberate.
   */
  readonly fromBeginning: boolean;
  /** Parses a record through its contract (`decodeEvent` of `@loopline/contracts`); a throw dead-letters the record. */
  readonly parse: ParseRecord<TEvent>;
  /**
   * Applies one event. Must be idempotent (inbox by event id): delivery is at-least-once. Throw a
   * `@loopline/errors` error to say whether a retry can help (`isRetryable(code)`); unknown errors
   * are retried.
   */
  readonly handle: HandleEvent<NoInfer<TEvent>>;
  /** Handler attempts per record before it is dead-lettered; 1 disables retries. Default 5. */
  readonly maxAttempts?: number;
  readonly backoff?: Partial<BackoffPolicy>;
  /** Deadline of one handler attempt. Must be shorter than the session timeout. Default 10 s. */
  readonly handlerTimeoutMs?: number;
  /** Dead-letter topic for every subscribed topic; default `<topic>.dlq` per topic. It must exist. */
  readonly deadLetterTopic?: string;
  readonly group?: GroupSettings;
  readonly commit?: CommitSettings;
  readonly logger: Logger;
}

export interface SubscriptionHealth {
  readonly state: ConsumerState;
  /** When the state last changed. */
  readonly since: Date;
  /** The error of the last crash, if any. */
  readonly lastError?: string;
}

const defaults = {
  maxAttempts: 5,
  handlerTimeoutMs: 10_000,
  sessionTimeoutMs: 30_000,
  heartbeatIntervalMs: 3_000,
  rebalanceTimeoutMs: 60_000,
  maxWaitTimeMs: 1_000,
  maxBytesPerPartition: 1_048_576,
  commitIntervalMs: 1_000,
  commitThreshold: 100,
} as const;

/**
 * Subscribes a handler to topics and starts consuming; resolves once the consumer has joined its
 * group (or crashed trying: see `health()`).
 *
 * Guarantees: records of a partition are handled one at a time, in order; an offset is committed
 * only after its record was handled or dead-lettered, so a crash or rebalance redelivers, never
 * skips; a record that cannot succeed goes to the dead-letter topic and the partition moves on.
 */
export async function subscribe<TEvent>(kafka: Kafka, options: SubscriptionOptions<TEvent>): Promise<Subscription> {
  const settings = resolveSettings(options);
  const deadLetterTopicOf = (topic: string): string => options.deadLetterTopic ?? defaultDeadLetterTopic(topic);
  await assertTopicsExist(kafka, [...options.topics, ...new Set(options.topics.map(deadLetterTopicOf))]);

  const logger = options.logger.child({ component: 'subscription', groupId: options.groupId });
  const deadLetters = createEventProducer(kafka, { logger });
  await deadLetters.connect();
  const group = options.group ?? {};
  const consumer = kafka.consumer({
    groupId: options.groupId,
    sessionTimeout: settings.sessionTimeoutMs,
    heartbeatInterval: settings.heartbeatIntervalMs,
    rebalanceTimeout: group.rebalanceTimeoutMs ?? defaults.rebalanceTimeoutMs,
    maxWaitTimeInMs: group.maxWaitTimeMs ?? defaults.maxWaitTimeMs,
    maxBytesPerPartition: group.maxBytesPerPartition ?? defaults.maxBytesPerPartition,
    allowAutoTopicCreation: false,
    retry: group.retry && {
      initialRetryTime: group.retry.initialRetryTimeMs,
      maxRetryTime: group.retry.maxRetryTimeMs,
      retries: group.retry.retries,
    },
  });
  const subscription = new Subscription(consumer, deadLetters, logger);
  try {
    await subscription.start(options, settings, deadLetterTopicOf);
  } catch (error) {
    await subscription.stop();
    throw error;
  }
  return subscription;
}

interface ResolvedSettings extends DeliveryPolicy {
  readonly sessionTimeoutMs: number;
}

function resolveSettings<TEvent>(options: SubscriptionOptions<TEvent>): ResolvedSettings {
  const settings: ResolvedSettings = {
    maxAttempts: options.maxAttempts ?? defaults.maxAttempts,
    backoff: { ...defaultBackoff, ...options.backoff },
    handlerTimeoutMs: options.handlerTimeoutMs ?? defaults.handlerTimeoutMs,
    heartbeatIntervalMs: options.group?.heartbeatIntervalMs ?? defaults.heartbeatIntervalMs,
    sessionTimeoutMs: options.group?.sessionTimeoutMs ?? defaults.sessionTimeoutMs,
  };
  const invalid = (reason: string): never => {
    throw new MessagingError('INVALID_OPTIONS', `subscription ${options.groupId}: ${reason}`);
  };
  if (options.topics.length === 0) invalid('no topics');
  if (!Number.isInteger(settings.maxAttempts) || settings.maxAttempts < 1) invalid(`maxAttempts must be a positive integer, got ${settings.maxAttempts}`);
  // No heartbeat goes out while a handler runs; one that outlives the session gets the member
  // evicted and its record redelivered to someone else, forever (kafkajs#447, #1083).
  if (settings.handlerTimeoutMs >= settings.sessionTimeoutMs) {
    invalid(`handlerTimeoutMs (${settings.handlerTimeoutMs}) must be shorter than the session timeout (${settings.sessionTimeoutMs})`);
  }
  if (settings.heartbeatIntervalMs >= settings.sessionTimeoutMs) invalid('heartbeatIntervalMs must be shorter than the session timeout');
  return settings;
}

async function assertTopicsExist(kafka: Kafka, topics: readonly string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((topic) => !existing.has(topic));
    if (missing.length > 0) {
      throw new MessagingError('TOPIC_MISSING', `topics do not exist (provision them with ensureTopics): ${missing.join(', ')}`);
    }
  } finally {
    await admin.disconnect();
  }
}

/** A running consumer group member. Create with `subscribe`. */
export class Subscription {
  private state: ConsumerState = 'starting';
  private since = new Date();
  private lastError: string | undefined;
  private readonly stopController = new AbortController();
  private stopping: Promise<void> | undefined;
  /** Restarts this class made after crashes kafkajs would not restart from, since the last join. */
  private ownRestarts = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private runConsumer: (() => Promise<void>) | undefined;

  /** @internal use `subscribe` */
  constructor(
    private readonly consumer: Consumer,
    private readonly deadLetters: EventProducer,
    private readonly logger: Logger,
  ) {}

  /** True while the consumer is a member of its group: what readiness should report. */
  isRunning(): boolean {
    return this.state === 'running';
  }

  health(): SubscriptionHealth {
    return { state: this.state, since: this.since, ...(this.lastError === undefined ? {} : { lastError: this.lastError }) };
  }

  /**
   * Lets the record in hand finish (a backoff wait is cut short and its record left for
   * redelivery), commits the offsets of handled records, leaves the group and disconnects.
   * Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  /** @internal */
  async start<TEvent>(options: SubscriptionOptions<TEvent>, policy: DeliveryPolicy, deadLetterTopicOf: (topic: string) => string): Promise<void> {
    const { GROUP_JOIN, CRASH } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, () => {
      this.ownRestarts = 0;
      this.transition({ type: 'joined' });
    });
    this.consumer.on(CRASH, ({ payload }) => {
      this.lastError = `${payload.error.name}: ${payload.error.message}`;
      // kafkajs gives up for good on errors it does not deem retriable — among them "failed to find
      // the group coordinator" while a freshly started broker still loads its offsets topic — and
      // the service would run on without consuming. Unless stopping, restart it ourselves.
      const ownRestart = !payload.restart && !this.stopController.signal.aborted;
      this.logger.error({ err: payload.error, restart: payload.restart }, payload.restart ? 'consumer crashed; kafkajs restarts it' : 'consumer crashed; kafkajs gives up, restarting it');
      this.transition({ type: 'crashed', restart: payload.restart || ownRestart });
      if (ownRestart) this.scheduleOwnRestart();
    });
    this.runConsumer = () => this.connectAndRun(options, policy, deadLetterTopicOf);
    await this.runConsumer();
  }

  private scheduleOwnRestart(): void {
    if (this.restartTimer || this.stopController.signal.aborted || !this.runConsumer) return;
    const delayMs = ownRestartDelayMs(this.ownRestarts);
    this.ownRestarts += 1;
    const run = this.runConsumer;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopController.signal.aborted) return;
      run().catch((error: unknown) => {
        this.lastError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        this.logger.error({ err: error }, 'restarting the consumer failed; trying again');
        this.scheduleOwnRestart();
      });
    }, delayMs);
  }

  private async connectAndRun<TEvent>(options: SubscriptionOptions<TEvent>, policy: DeliveryPolicy, deadLetterTopicOf: (topic: string) => string): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...options.topics], fromBeginning: options.fromBeginning });
    await this.consumer.run({
      // Offsets are resolved by hand, record by record, and only once a record is handled; kafkajs
      // commits resolved offsets on the interval/threshold below, at the end of each batch, before
      // a rebalance and on stop.
      eachBatchAutoResolve: false,
      autoCommit: true,
      autoCommitInterval: options.commit?.intervalMs ?? defaults.commitIntervalMs,
      autoCommitThreshold: options.commit?.threshold ?? defaults.commitThreshold,
      partitionsConsumedConcurrently: options.group?.partitionsConsumedConcurrently ?? 1,
      eachBatch: (payload) => this.handleBatch(payload, options, policy, deadLetterTopicOf),
    });
  }

  private async handleBatch<TEvent>(
    { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }: EachBatchPayload,
    options: SubscriptionOptions<TEvent>,
    policy: DeliveryPolicy,
    deadLetterTopicOf: (topic: string) => string,
  ): Promise<void> {
    for (const message of batch.messages) {
      // A stale batch was overtaken by a seek or a reassignment: its records are no longer ours.
      if (!isRunning() || isStale() || this.stopController.signal.aborted) return;
      const outcome = await deliverRecord(toConsumedRecord(batch, message), {
        groupId: options.groupId,
        parse: options.parse,
        handle: options.handle,
        policy,
        deadLetterTopicOf,
        publishDeadLetter: async (deadLetter) => {
          await this.deadLetters.publish([deadLetter], { keepTraceHeaders: true });
        },
        heartbeat,
        stopSignal: this.stopController.signal,
        logger: this.logger,
        now: () => new Date(),
      });
      if (outcome === 'interrupted') return;
      resolveOffset(message.offset);
      await commitOffsetsIfNecessary();
      await heartbeat();
    }
  }

  private transition(event: ConsumerLifecycleEvent): void {
    const next = nextConsumerState(this.state, event);
    if (next === this.state) return;
    this.state = next;
    this.since = new Date();
  }

  private async shutdown(): Promise<void> {
    this.transition({ type: 'stop-requested' });
    this.stopController.abort();
    clearTimeout(this.restartTimer);
    try {
      // kafkajs' stop waits for the batch in hand, whose loop ends after the current record;
      // the resolved offsets are committed before the member leaves the group.
      await this.consumer.disconnect();
    } finally {
      await this.deadLetters.disconnect();
      this.transition({ type: 'stopped' });
    }
  }
}

/** Waits before restarting a consumer kafkajs gave up on: 1 s, doubling, at most 30 s. */
export function ownRestartDelayMs(restartsSoFar: number): number {
  return Math.min(30_000, 1_000 * 2 ** Math.min(restartsSoFar, 5));
}

function toConsumedRecord(batch: Batch, message: KafkaMessage): ConsumedRecord {
  return {
    topic: batch.topic,
    partition: batch.partition,
    offset: message.offset,
    key: message.key,
    value: message.value,
    headers: message.headers ?? {},
    timestamp: message.timestamp,
  };
}
