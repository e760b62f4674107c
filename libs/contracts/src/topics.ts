// The topic registry: every Kafka topic of the platform, who owns it, what its key is and which
// events it carries. Producers, consumers, the CloudEvents codec and the AsyncAPI document all read
// this one list, so a topic cannot exist in one of them and not in the others.
import type { DescMessage, MessageShape } from '@bufbuild/protobuf';
import {
  AlertResolvedSchema,
  DatasetVersionCreatedSchema,
  DatasetVersionRejectedSchema,
  DriftDetectedSchema,
  FeatureViewAppliedSchema,
  LabelReceivedSchema,
  MaterializationCompletedSchema,
  ModelLoadFailedSchema,
  ModelVersionAliasRemovedSchema,
  ModelVersionAliasSetSchema,
  ModelVersionArchivedSchema,
  PromotionGateEvaluatedSchema,
  PromotionPolicySetSchema,
  ModelVersionRegisteredSchema,
  PerformanceDegradedSchema,
  PipelineRunCancelledSchema,
  PipelineRunFailedSchema,
  PipelineRunStartedSchema,
  PipelineRunSucceededSchema,
  PredictionLoggedSchema,
  RegisteredModelCreatedSchema,
  RunTaskSchema,
  TaskCompletedSchema,
  TaskFailedSchema,
  TrainingRunCompletedSchema,
  TrainingRunFailedSchema,
  TrainingRunStartedSchema,
} from './gen';
import { ContractError } from './contract-error';
import { parseTopicName } from './topic-name';

/** The seven services of the platform. */
export type ServiceName =
  | 'ingestion'
  | 'feature-store'
  | 'orchestration'
  | 'training'
  | 'registry'
  | 'serving'
  | 'monitoring';

/**
 * One Kafka topic and its contract.
 *
 * `ownerRole` says which side of the topic the owner is on: a `producer` publishes facts that
 * others follow; a `consumer` defines a topic that others write to for it (task results from the
 * services executing tasks, labels from product backends). The AsyncAPI operation follows it.
 */
export interface TopicDefinition {
  /** `loopline.<service>.<stream>.v<major>`; see topic-name.ts. */
  readonly name: string;
  /** The service that owns the contract of the topic. */
  readonly owner: ServiceName;
  /** Whether the owner publishes to the topic or reads what others publish. */
  readonly ownerRole: 'producer' | 'consumer';
  /** What the topic is for, for the AsyncAPI document. */
  readonly description: string;
  /** The Kafka message key: order is guaranteed only among messages with equal keys. */
  readonly key: { readonly description: string; readonly example: string };
  /** The event (or command) messages the topic carries; the CloudEvents type is their full name. */
  readonly events: readonly DescMessage[];
  /** Partitions to create the topic with; more partitions, more consumers in parallel. */
  readonly partitions: number;
}

export const topics = [
  {
    name: 'loopline.ingestion.dataset-versions.v1',
    owner: 'ingestion',
    ownerRole: 'producer',
    description: 'Dataset versions accepted or rejected by validation.',
    key: { description: 'The data source name.', example: 'flights' },
    events: [DatasetVersionCreatedSchema, DatasetVersionRejectedSchema],
    partitions: 3,
  },
  {
    name: 'loopline.feature-store.feature-views.v1',
    owner: 'feature-store',
    ownerRole: 'producer',
    description: 'Versions of feature view definitions, as they are applied.',
    key: { description: 'The feature view name.', example: 'route_delay_stats' },
    events: [FeatureViewAppliedSchema],
    partitions: 3,
  },
  {
    name: 'loopline.feature-store.materializations.v1',
    owner: 'feature-store',
    ownerRole: 'producer',
    description: 'Feature views materialized into the offline and online stores.',
    key: { description: 'The feature view name.', example: 'route_delay_stats' },
    events: [MaterializationCompletedSchema],
    partitions: 3,
  },
  {
    name: 'loopline.orchestration.pipeline-runs.v1',
    owner: 'orchestration',
    ownerRole: 'producer',
    description: 'Lifecycle of pipeline runs: started, then succeeded, failed or cancelled.',
    key: { description: 'The pipeline run id.', example: '0b6f3c1e-6a8e-4d59-9a53-2f1f4be0b0c4' },
    events: [PipelineRunStartedSchema, PipelineRunSucceededSchema, PipelineRunFailedSchema, PipelineRunCancelledSchema],
    partitions: 3,
  },
  {
    name: 'loopline.orchestration.task-commands.v1',
    owner: 'orchestration',
    ownerRole: 'producer',
    description:
      'Commands to execute pipeline tasks. Every executing service consumes the topic and handles the step kinds it owns.',
    key: { description: 'The pipeline run id.', example: '0b6f3c1e-6a8e-4d59-9a53-2f1f4be0b0c4' },
    events: [RunTaskSchema],
    partitions: 3,
  },
  {
    name: 'loopline.orchestration.task-results.v1',
    owner: 'orchestration',
    ownerRole: 'consumer',
    description: 'Results of pipeline tasks, written by the services that executed them.',
    key: { description: 'The pipeline run id.', example: '0b6f3c1e-6a8e-4d59-9a53-2f1f4be0b0c4' },
    events: [TaskCompletedSchema, TaskFailedSchema],
    partitions: 3,
  },
  {
    name: 'loopline.training.runs.v1',
    owner: 'training',
    ownerRole: 'producer',
    description: 'Lifecycle of training runs, with the metrics, parameters and model of completed ones.',
    key: { description: 'The training run id.', example: '5d1c7f0a-3b7e-4f3c-8f47-8c1b0d9e2a61' },
    events: [TrainingRunStartedSchema, TrainingRunCompletedSchema, TrainingRunFailedSchema],
    partitions: 3,
  },
  {
    name: 'loopline.registry.model-versions.v1',
    owner: 'registry',
    ownerRole: 'producer',
    description: 'Registered models, their versions and aliases; serving follows the aliases.',
    key: { description: 'The registered model name.', example: 'flight-delay' },
    events: [
      RegisteredModelCreatedSchema,
      ModelVersionRegisteredSchema,
      ModelVersionAliasSetSchema,
      ModelVersionAliasRemovedSchema,
      ModelVersionArchivedSchema,
      PromotionPolicySetSchema,
      PromotionGateEvaluatedSchema,
    ],
    partitions: 3,
  },
  {
    name: 'loopline.serving.predictions.v1',
    owner: 'serving',
    ownerRole: 'producer',
    description: 'Every prediction served, with its inputs, outputs and latency.',
    key: { description: 'The registered model name.', example: 'flight-delay' },
    events: [PredictionLoggedSchema],
    // The busiest topic: one message per request.
    partitions: 12,
  },
  {
    name: 'loopline.serving.model-loads.v1',
    owner: 'serving',
    ownerRole: 'producer',
    description: 'Model versions that serving instances failed to load.',
    key: { description: 'The registered model name.', example: 'flight-delay' },
    events: [ModelLoadFailedSchema],
    partitions: 3,
  },
  {
    name: 'loopline.feedback.labels.v1',
    owner: 'monitoring',
    ownerRole: 'consumer',
    description:
      'Ground-truth labels, written by product backends or any system that learns the true outcome; monitoring joins them with predictions.',
    key: {
      description:
        'The prediction id; for labels not tied to one prediction, the entity keys as URI-encoded `name=value` pairs sorted by name and joined with `&` (see `labelKey`).',
      example: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
    },
    events: [LabelReceivedSchema],
    partitions: 12,
  },
  {
    name: 'loopline.monitoring.alerts.v1',
    owner: 'monitoring',
    ownerRole: 'producer',
    description: 'Drift and performance alerts about models in production, raised and resolved.',
    key: { description: 'The registered model name.', example: 'flight-delay' },
    events: [DriftDetectedSchema, PerformanceDegradedSchema, AlertResolvedSchema],
    partitions: 3,
  },
] as const satisfies readonly TopicDefinition[];

/** A topic of the registry, with its literal name and event schemas. */
export type Topic = (typeof topics)[number];
/** The name of a registered topic. */
export type TopicName = Topic['name'];
/** The schemas of the events a topic carries. */
export type EventSchemaOf<Name extends TopicName> = Extract<Topic, { name: Name }>['events'][number];
/** The messages a topic carries, as a union discriminated by `$typeName`. */
export type EventOf<Name extends TopicName> = MessageShape<EventSchemaOf<Name>>;
/** Any Loopline event or command message carried by a topic. */
export type LooplineEvent = EventOf<TopicName>;

/** An event type (CloudEvents `type`, the proto full name) with its schema and its topic. */
export interface RegisteredEventType {
  readonly schema: DescMessage;
  readonly topic: TopicDefinition;
}

/**
 * Indexes topics by name and event types by CloudEvents type, and refuses a list in which a topic
 * name is invalid or repeated, or an event type belongs to two topics: a type must tell a
 * consumer exactly where it comes from.
 */
export function indexTopics(definitions: readonly TopicDefinition[]): {
  readonly topicsByName: ReadonlyMap<string, TopicDefinition>;
  readonly eventTypes: ReadonlyMap<string, RegisteredEventType>;
} {
  const topicsByName = new Map<string, TopicDefinition>();
  const eventTypes = new Map<string, RegisteredEventType>();
  for (const topic of definitions) {
    if (parseTopicName(topic.name) === undefined) {
      throw new ContractError('INVALID_TOPIC_NAME', `topic name "${topic.name}" breaks the naming convention`);
    }
    if (topicsByName.has(topic.name)) throw new Error(`topic ${topic.name} is registered twice`);
    topicsByName.set(topic.name, topic);
    for (const schema of topic.events) {
      const other = eventTypes.get(schema.typeName);
      if (other !== undefined) {
        throw new Error(`event type ${schema.typeName} is registered on both ${other.topic.name} and ${topic.name}`);
      }
      eventTypes.set(schema.typeName, { schema, topic });
    }
  }
  return { topicsByName, eventTypes };
}

const index = indexTopics(topics);

/** The topic with this name, or undefined. */
export function findTopic(name: string): TopicDefinition | undefined {
  return index.topicsByName.get(name);
}

/** The topic with this name; throws a `ContractError` (`UNKNOWN_TOPIC`) if there is none. */
export function getTopic(name: string): TopicDefinition {
  const topic = findTopic(name);
  if (topic === undefined) throw new ContractError('UNKNOWN_TOPIC', `topic "${name}" is not in the topic registry`);
  return topic;
}

/** The event type (schema and topic) for a CloudEvents `type`, or undefined. */
export function findEventType(type: string): RegisteredEventType | undefined {
  return index.eventTypes.get(type);
}

/** The message schema for a CloudEvents `type`, e.g. `loopline.registry.v1.ModelVersionRegistered`. */
export function findEventSchema(type: string): DescMessage | undefined {
  return findEventType(type)?.schema;
}

/** The CloudEvents `type` of an event schema: its proto full name. */
export function eventTypeOf(schema: DescMessage): string {
  return schema.typeName;
}
