/**
 * Kafka record headers as they travel: a key may repeat on the wire, so a value can be a list.
 * Same shape as kafkajs' `IHeaders`, spelled out so callers need not import kafkajs.
 */
export type MessageHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

/** A record to publish. `encodeEvent` from `@loopline/contracts` returns everything but `topic`. */
export interface OutgoingMessage {
  readonly topic: string;
  /** Decides the partition (and so the ordering scope); use the aggregate or entity id. */
  readonly key?: Buffer | string | null;
  /** `null` is a tombstone on compacted topics. */
  readonly value: Buffer | string | null;
  readonly headers?: MessageHeaders;
  /** Only to override the key-based partitioner; normally left out. */
  readonly partition?: number;
  /** Record timestamp, epoch milliseconds as a string; the broker's clock when left out. Contract events carry their event time. */
  readonly timestamp?: string;
}

/** Where one published record landed. */
export interface PublishedRecord {
  readonly topic: string;
  readonly partition: number;
  /** Base offset of the produce request for this partition, as a decimal string. */
  readonly offset: string | undefined;
}

/** A consumed record and its coordinates, as handed to `parse` and kept for the dead-letter copy. */
export interface ConsumedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: MessageHeaders;
  /** Broker or producer timestamp, epoch milliseconds as a string (kafkajs' representation). */
  readonly timestamp: string;
}
