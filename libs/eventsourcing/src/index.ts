/**
 * @loopline/eventsourcing: deciders, the Postgres event store, the transactional outbox and its
 * relay to Kafka, the idempotent inbox, projections with checkpoints and replay.
 * Design and guarantees: docs/adr/0002-event-store-and-outbox.md.
 *
 * Domain code imports only types from here (`import type { Decider } ...`).
 */
export { foldEvents, type Decider, type Evolver } from './decider/decider';
export { DeciderSpecification, type DeciderGiven, type DeciderThen, type DeciderWhen } from './decider/decider-specification';

export type { DomainEvent, EventDecoder, EventMetadata, EventPosition, NewEvent, RecordedEvent } from './events/event';
export type {
  AggregateStreamResult,
  AppendOptions,
  AppendResult,
  EventStore,
  ReadAllOptions,
  ReadAllResult,
  ReadStreamOptions,
  ReadStreamResult,
} from './events/event-store';
export { requiredVersion, type ExpectedVersion } from './events/expected-version';

export { outboxChannel, PostgresEventStore, type PostgresEventStoreOptions } from './postgres/postgres-event-store';
export { migrateEventSourcingSchema } from './postgres/schema';
export { withTransaction } from './postgres/transaction';

export { eventIdHeader, type OutboxMessage, type PendingOutboxMessage } from './outbox/outbox-message';
export type { OutboxPublisher } from './outbox/outbox-publisher';
export { OutboxRelay, type OutboxLag, type OutboxRelayOptions, type OutboxRelayStats, type RelayBatchResult, type RelayFailure } from './outbox/outbox-relay';
export { createOutboxProducer, KafkaOutboxPublisher, outboxProducerConfig } from './outbox/kafka-outbox-publisher';
export { OutboxPublishing, type OutboxPublishingLogger, type OutboxPublishingOptions } from './outbox/outbox-publishing';

export { Inbox, type InboxOutcome } from './inbox/inbox';

export type { Projection } from './projections/projection';
export { ProjectionRunner, type GlobalEventReader, type ProjectionRunnerOptions } from './projections/projection-runner';

export { handleCommand, type CommandMetadata, type HandleCommandInput, type HandleCommandResult } from './command-handling/handle-command';
