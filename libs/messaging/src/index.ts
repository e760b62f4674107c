// @loopline/messaging: Kafka for Loopline services — an idempotent, traced producer; consumers
// that commit only handled records, retry with backoff and dead-letter what cannot succeed; and
// explicit topic provisioning. kafkajs stays behind these functions (REFERENCE 6.3: keep the
// client replaceable).
export { defaultBackoff, type BackoffPolicy } from './backoff';
export type { ConsumerState } from './consumer-state';
export { contractMessage, parseContractEvent, subscribeToEvents, type EventSubscriptionOptions } from './contract-events';
export { deadLetterHeaders, defaultDeadLetterTopic } from './dead-letter';
export { createEventProducer, EventProducer, type EventProducerOptions, type PublishOptions } from './event-producer';
export type { DeadLetterReason } from './failure-policy';
export { createKafkaClient, type KafkaClientConfig } from './kafka-client';
export type { ConsumedRecord, MessageHeaders, OutgoingMessage, PublishedRecord } from './message-types';
export { isMessagingErrorRetryable, MessagingError, type MessagingErrorCode } from './messaging-error';
export type { Delivery, HandleEvent, ParseRecord } from './record-delivery';
export { subscribe, Subscription, type CommitSettings, type GroupSettings, type SubscriptionHealth, type SubscriptionOptions } from './subscription';
export { ensureTopics, type EnsureTopicsResult, type PartitionMismatch, type TopicAdmin, type TopicSpec } from './topics';
export { contextFromHeaders, traceHeaders } from './trace-context';
export {
  classifyTaskError,
  LogsTail,
  maxLogsTailBytes,
  startTaskExecution,
  stepKindOfTask,
  TaskFailure,
  taskCommandsTopic,
  taskKindOf,
  TaskLedger,
  taskResultsTopic,
  type ExecutableTask,
  type RecordedCommand,
  type RecordedResult,
  type TaskErrorInfo,
  type TaskExecution,
  type TaskExecutionOptions,
  type TaskHandler,
  type TaskKindName,
  type TaskProgress,
} from './task-execution';
