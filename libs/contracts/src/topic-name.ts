import { ContractError } from './contract-error';

/** The parts of a topic name `loopline.<namespace>.<stream>.v<major>`. */
export interface TopicNameParts {
  /** The owning service's name, or the name of a shared ingress such as `feedback`. */
  readonly namespace: string;
  /** What flows on the topic, e.g. `model-versions`. */
  readonly stream: string;
  /** Major version of the contract: a new major is a new topic, so consumers migrate at will. */
  readonly majorVersion: number;
}

// Segments are kebab-case so that names stay readable and legal in every Kafka tool; Kafka
// itself would also accept `_` and upper case, which are rejected here to keep one spelling.
const segment = '[a-z][a-z0-9]*(?:-[a-z0-9]+)*';
const topicNamePattern = new RegExp(`^loopline\\.(${segment})\\.(${segment})\\.v([1-9][0-9]*)$`);
// Kafka's own limit on topic name length.
const maxKafkaTopicNameLength = 249;

/** Splits a topic name into its parts, or returns undefined when it breaks the convention. */
export function parseTopicName(name: string): TopicNameParts | undefined {
  if (name.length > maxKafkaTopicNameLength) return undefined;
  const match = topicNamePattern.exec(name);
  if (match === null) return undefined;
  const [, namespace, stream, major] = match;
  return { namespace, stream, majorVersion: Number(major) };
}

/** Whether `name` follows `loopline.<service>.<stream>.v<major>`. */
export function isValidTopicName(name: string): boolean {
  return parseTopicName(name) !== undefined;
}

/** Throws a `ContractError` (`INVALID_TOPIC_NAME`) unless `name` follows the convention. */
export function assertValidTopicName(name: string): TopicNameParts {
  const parts = parseTopicName(name);
  if (parts === undefined) {
    throw new ContractError(
      'INVALID_TOPIC_NAME',
      `topic name "${name}" does not match loopline.<service>.<stream>.v<major> (kebab-case segments, major >= 1)`,
    );
  }
  return parts;
}
