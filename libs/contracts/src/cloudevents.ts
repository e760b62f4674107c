// The CloudEvents envelope of every Loopline event on Kafka: CloudEvents 1.0 in binary content
// mode (attributes in `ce_*` headers), payload in the proto3 JSON mapping, so that a team in any
// language can read a topic with a CloudEvents SDK and the AsyncAPI document, without our code.
import { fromJson, toJson, type DescMessage, type JsonValue, type Message } from '@bufbuild/protobuf';
import { CloudEvent, Kafka, ValidationError } from 'cloudevents';
import { ContractError } from './contract-error';
import { normalizeKafkaHeaders, type IncomingKafkaHeaders } from './kafka-headers';
import { findEventType, getTopic, type EventOf, type LooplineEvent, type TopicName } from './topics';

/** What a producer supplies to publish one event. */
export interface EncodeEventInput<Name extends TopicName> {
  /** The topic to publish to; its registry entry must list the message's schema. */
  readonly topic: Name;
  /** The Kafka key, as the topic's registry entry defines it (e.g. the model name). */
  readonly key: string;
  /** CloudEvents `id`: unique per source; consumers deduplicate on (source, id). */
  readonly id: string;
  /** CloudEvents `source`, a URI reference naming the producer, e.g. `/loopline/registry`. */
  readonly source: string;
  /** CloudEvents `time`: when the event happened (from command metadata, not the clock). */
  readonly time: Date;
  /** CloudEvents `subject`: the aggregate within the source, e.g. `flight-delay/3`. */
  readonly subject?: string;
  /** The event; its `$typeName` becomes the CloudEvents `type`. */
  readonly message: EventOf<Name>;
  /**
   * CloudEvents extension attributes, e.g. `{ traceparent }` (distributed tracing extension).
   * Names are lower-case letters and digits, and must not shadow a core attribute.
   */
  readonly extensions?: Readonly<Record<string, string>>;
}

/** A Kafka message ready for kafkajs `producer.send({ topic, messages: [message] })`. */
export interface EncodedKafkaMessage {
  readonly key: string;
  readonly value: Buffer;
  readonly headers: Record<string, string>;
  /** Kafka record timestamp (milliseconds since the epoch, as kafkajs wants it): the event time. */
  readonly timestamp: string;
}

/** A Kafka message as kafkajs hands it to consumers (structurally compatible with `KafkaMessage`). */
export interface IncomingKafkaMessage {
  readonly key?: Buffer | string | null;
  readonly value: Buffer | string | null;
  readonly headers?: IncomingKafkaHeaders;
}

/**
 * A decoded event. It is a union over the possible messages, so checking `type`,
 * `message.$typeName` or calling `isEvent` narrows `schema` and `message` together.
 */
export type DecodedEvent<M extends Message = LooplineEvent> = M extends Message
  ? {
      readonly id: string;
      readonly type: M['$typeName'];
      readonly source: string;
      readonly time: Date;
      readonly subject: string | undefined;
      /** The Kafka key as text; undefined for a message without key. */
      readonly key: string | undefined;
      readonly schema: DescMessage & { readonly typeName: M['$typeName'] };
      readonly message: M;
      /** CloudEvents extension attributes, from `ce_*` headers that are not core attributes. */
      readonly extensions: Readonly<Record<string, string>>;
    }
  : never;

const specVersion = '1.0';
const jsonContentType = 'application/json';
const contentTypeHeader = 'content-type';
const cePrefix = 'ce_';
// Core attributes that travel as `ce_*` headers; any other `ce_*` header is an extension.
const coreAttributes = new Set(['specversion', 'id', 'type', 'source', 'time', 'subject', 'dataschema', 'datacontenttype']);
const requiredHeaders = ['ce_specversion', 'ce_id', 'ce_type', 'ce_source', 'ce_time', contentTypeHeader] as const;
// RFC 3339 date-time, as CloudEvents requires for `time`.
const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;
const extensionName = /^[a-z0-9]+$/;

/** `EncodeEventInput` for code that holds topic and message dynamically; checked at run time only. */
export type DynamicEncodeEventInput = Omit<EncodeEventInput<TopicName>, 'topic' | 'message'> & {
  readonly topic: string;
  readonly message: Message;
};

/**
 * Encodes an event as a Kafka message in CloudEvents binary content mode. The compiler checks that
 * the topic carries the message; the same checks run again at run time.
 */
export function encodeEvent<Name extends TopicName>(input: EncodeEventInput<Name>): EncodedKafkaMessage {
  return encodeDynamicEvent(input);
}

/**
 * `encodeEvent` for callers that only know topic and message at run time, such as an outbox relay
 * reading stored events: an unregistered topic or event type, or an event on the wrong topic,
 * throws a `ContractError`. A separate name keeps `encodeEvent` strict at compile time.
 */
export function encodeDynamicEvent(input: DynamicEncodeEventInput): EncodedKafkaMessage {
  const topic = getTopic(input.topic);
  const schema = schemaForTopic(input.message.$typeName, topic.name);
  for (const [attribute, value] of [['key', input.key], ['id', input.id], ['source', input.source]] as const) {
    if (value === '') throw new ContractError('INVALID_ENVELOPE', `${schema.typeName}: ${attribute} must not be empty`);
  }
  if (Number.isNaN(input.time.getTime())) {
    throw new ContractError('INVALID_ENVELOPE', `${schema.typeName}: time is an invalid Date`);
  }
  const extensions = input.extensions ?? {};
  for (const name of Object.keys(extensions)) {
    if (!extensionName.test(name) || coreAttributes.has(name)) {
      throw new ContractError(
        'INVALID_ENVELOPE',
        `${schema.typeName}: "${name}" cannot be an extension attribute (lower-case letters and digits, not a core attribute)`,
      );
    }
  }

  let data: JsonValue;
  try {
    data = toJson(schema, input.message);
  } catch (error) {
    throw new ContractError('INVALID_PAYLOAD', `${schema.typeName} cannot be encoded as JSON: ${messageOf(error)}`, {
      cause: error,
    });
  }

  let event: CloudEvent<JsonValue>;
  try {
    // The SDK validates the attributes against the CloudEvents 1.0 schema.
    event = new CloudEvent<JsonValue>({
      ...extensions,
      specversion: specVersion,
      id: input.id,
      type: schema.typeName,
      source: input.source,
      time: input.time.toISOString(),
      ...(input.subject === undefined ? {} : { subject: input.subject }),
      datacontenttype: jsonContentType,
      data,
    });
  } catch (error) {
    if (error instanceof ValidationError) {
      throw new ContractError('INVALID_ENVELOPE', `${schema.typeName}: not a valid CloudEvent: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }

  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(Kafka.binary(event).headers)) {
    // The SDK also emits unset attributes (undefined) and `ce_datacontenttype`, which the Kafka
    // binding carries in `content-type` only.
    if (typeof value === 'string' && name !== 'ce_datacontenttype') headers[name] = value;
  }
  return {
    key: input.key,
    value: Buffer.from(JSON.stringify(data), 'utf8'),
    headers,
    timestamp: String(input.time.getTime()),
  };
}

/**
 * Decodes and validates a Kafka message read from `topic`. Throws a `ContractError` when the
 * message is not a Loopline event of that topic; see `ContractErrorCode` for each case.
 */
export function decodeEvent<Name extends TopicName>(message: IncomingKafkaMessage, topic: Name): DecodedEvent<EventOf<Name>>;
export function decodeEvent(message: IncomingKafkaMessage, topic: string): DecodedEvent;
export function decodeEvent(message: IncomingKafkaMessage, topicName: string): DecodedEvent {
  const topic = getTopic(topicName);
  const headers = normalizeKafkaHeaders(message.headers);

  const missing = requiredHeaders.filter((name) => (headers.get(name) ?? '') === '');
  if (missing.length > 0) {
    throw new ContractError('MISSING_HEADER', `message on ${topic.name} lacks required header(s): ${missing.join(', ')}`);
  }
  const header = (name: (typeof requiredHeaders)[number]): string => headers.get(name) ?? '';

  if (header('ce_specversion') !== specVersion) {
    throw new ContractError(
      'INVALID_HEADER',
      `ce_specversion is "${header('ce_specversion')}", only CloudEvents ${specVersion} is supported`,
    );
  }
  const mediaType = header(contentTypeHeader).split(';')[0].trim().toLowerCase();
  if (mediaType !== jsonContentType) {
    throw new ContractError(
      'INVALID_HEADER',
      `content-type is "${header(contentTypeHeader)}", expected ${jsonContentType} (binary content mode, proto3 JSON payload)`,
    );
  }
  const time = new Date(header('ce_time'));
  if (!rfc3339.test(header('ce_time')) || Number.isNaN(time.getTime())) {
    throw new ContractError('INVALID_HEADER', `ce_time "${header('ce_time')}" is not an RFC 3339 timestamp`);
  }

  const type = header('ce_type');
  const schema = schemaForTopic(type, topic.name);
  const payload = parsePayload(message.value, type, schema);

  const extensions: Record<string, string> = {};
  for (const [name, value] of headers) {
    if (!name.startsWith(cePrefix)) continue;
    const attribute = name.slice(cePrefix.length);
    if (!coreAttributes.has(attribute)) extensions[attribute] = value;
  }
  const subject = headers.get('ce_subject');
  return {
    id: header('ce_id'),
    type: schema.typeName,
    source: header('ce_source'),
    time,
    subject: subject === '' ? undefined : subject,
    key: message.key === null || message.key === undefined ? undefined : keyText(message.key),
    schema,
    message: payload,
    extensions,
    // The compiler cannot tie `schema` and `message` to `type` across the union; fromJson(schema)
    // guarantees they agree.
  } as DecodedEvent;
}

/**
 * Narrows a decoded event to one event type, e.g.
 * `if (isEvent(decoded, ModelVersionAliasSetSchema)) decoded.message.alias`.
 */
export function isEvent<D extends DecodedEvent, S extends DescMessage>(
  decoded: D,
  schema: S,
): decoded is Extract<D, { readonly type: S['typeName'] }> {
  return decoded.type === schema.typeName;
}

// The schema of an event type, provided `topicName` is the topic that carries it.
function schemaForTopic(type: string, topicName: string): DescMessage {
  const registered = findEventType(type);
  if (registered === undefined) {
    throw new ContractError('UNKNOWN_EVENT_TYPE', `"${type}" is not a Loopline event type (topic ${topicName})`);
  }
  if (registered.topic.name !== topicName) {
    throw new ContractError('WRONG_TOPIC', `${type} belongs on ${registered.topic.name}, not on ${topicName}`);
  }
  return registered.schema;
}

function parsePayload(value: Buffer | string | null, type: string, schema: DescMessage): Message {
  const text = value === null ? '' : typeof value === 'string' ? value : value.toString('utf8');
  if (text === '') throw new ContractError('INVALID_PAYLOAD', `${type} has an empty payload`);
  let json: JsonValue;
  try {
    // JSON.parse only ever yields JSON values.
    json = JSON.parse(text) as JsonValue;
  } catch (error) {
    throw new ContractError('INVALID_PAYLOAD', `${type} payload is not JSON: ${messageOf(error)}`, { cause: error });
  }
  try {
    // Strict on purpose: unknown fields and wrong types are rejected, not dropped silently.
    return fromJson(schema, json, { ignoreUnknownFields: false });
  } catch (error) {
    throw new ContractError('INVALID_PAYLOAD', `${type} payload does not match its schema: ${messageOf(error)}`, {
      cause: error,
    });
  }
}

function keyText(key: Buffer | string): string {
  return typeof key === 'string' ? key : key.toString('utf8');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
