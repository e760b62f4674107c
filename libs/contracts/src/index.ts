// @loopline/contracts: the single source of truth for every event and gRPC contract.
// - the TypeScript generated from proto/ (message types and their `...Schema` descriptors);
// - the topic registry: every topic, its owner, key and events;
// - the CloudEvents codec that puts events on Kafka and takes them off, strictly;
// - protoRoot, for @grpc/proto-loader users.

export * from './gen';
export { protoRoot } from './paths';
export { ContractError, type ContractErrorCode } from './contract-error';
export { assertValidTopicName, isValidTopicName, parseTopicName, type TopicNameParts } from './topic-name';
export {
  eventTypeOf,
  findEventSchema,
  findEventType,
  findTopic,
  getTopic,
  topics,
  type EventOf,
  type EventSchemaOf,
  type LooplineEvent,
  type RegisteredEventType,
  type ServiceName,
  type Topic,
  type TopicDefinition,
  type TopicName,
} from './topics';
export {
  decodeEvent,
  encodeDynamicEvent,
  encodeEvent,
  isEvent,
  type DecodedEvent,
  type DynamicEncodeEventInput,
  type EncodedKafkaMessage,
  type EncodeEventInput,
  type IncomingKafkaMessage,
} from './cloudevents';
export type { IncomingKafkaHeaders, IncomingKafkaHeaderValue } from './kafka-headers';
export { entityKey, labelKey } from './keys';
