import type { PoolClient } from 'pg';
import type { Evolver } from '../decider/decider';
import type { OutboxMessage } from '../outbox/outbox-message';
import type { DomainEvent, EventDecoder, EventPosition, NewEvent, RecordedEvent } from './event';
import type { ExpectedVersion } from './expected-version';

export interface AppendOptions {
  readonly expectedVersion: ExpectedVersion;
  /** Recorded on the stream row when it is created; defaults to the stream id up to its first `-`. */
  readonly streamType?: string;
  /** Messages written to the outbox in the same transaction as the events. */
  readonly outbox?: readonly OutboxMessage[];
  /**
   * Append inside the caller's open transaction (an inbox effect, say); the caller commits.
   * Without it the append is its own transaction.
   */
  readonly transaction?: PoolClient;
}

export interface AppendResult {
  /** The stream version after this append: pass it as the next `expectedVersion`. */
  readonly nextExpectedVersion: number;
  /** Where each event landed, in the order given. */
  readonly positions: readonly EventPosition[];
  /** True when every event was already stored by an earlier attempt: nothing was written. */
  readonly replayed: boolean;
}

export interface ReadStreamOptions<E extends DomainEvent> {
  /** Only events after this version (those the caller's state does not include yet). Default 0: all. */
  readonly fromVersion?: number;
  readonly maxCount?: number;
  readonly decode?: EventDecoder<E>;
}

export interface ReadStreamResult<E extends DomainEvent> {
  readonly streamExists: boolean;
  /** The stream's current version (0 when it does not exist), whatever `fromVersion` was. */
  readonly version: number;
  readonly events: readonly RecordedEvent<E>[];
}

export interface AggregateStreamResult<State> {
  readonly state: State;
  /** Pass as `expectedVersion` to append the events decided from `state`. */
  readonly version: number;
  readonly streamExists: boolean;
}

/** The port application code appends and loads through; `PostgresEventStore` implements it. */
export interface EventStore {
  appendToStream<E extends DomainEvent>(streamId: string, events: readonly NewEvent<E>[], options: AppendOptions): Promise<AppendResult>;
  readStream<E extends DomainEvent = DomainEvent>(streamId: string, options?: ReadStreamOptions<E>): Promise<ReadStreamResult<E>>;
  aggregateStream<State, E extends DomainEvent>(
    streamId: string,
    evolver: Evolver<State, E>,
    options?: { readonly decode?: EventDecoder<E> },
  ): Promise<AggregateStreamResult<State>>;
}

export interface ReadAllOptions {
  /** The `checkpoint` returned by the previous call; 0 to start from the beginning. */
  readonly after: number;
  readonly limit: number;
}

export interface ReadAllResult {
  /** In commit-safe order: by writer transaction, then global position (not global position alone). */
  readonly events: readonly RecordedEvent[];
  /** Pass as `after` next time: the global position of the last event returned, or `after` when none. */
  readonly checkpoint: number;
}
