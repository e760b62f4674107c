import type { Kafka } from 'kafkajs';
import { decodeEvent, encodeEvent, type DecodedEvent, type EncodeEventInput, type EventOf, type TopicName } from '@loopline/contracts';
import type { OutgoingMessage } from './message-types';
import type { HandleEvent, ParseRecord } from './record-delivery';
import { subscribe, type Subscription, type SubscriptionOptions } from './subscription';

/**
 * Decodes a record through the contract of the topic it was read from (CloudEvents headers,
 * proto3 JSON payload, strictly). A record that breaks its contract throws a `ContractError`, whose
 * code (`INVALID_PAYLOAD`, `UNKNOWN_EVENT_TYPE`, …) becomes the dead-letter error code.
 */
export const parseContractEvent: ParseRecord<DecodedEvent> = (record) => decodeEvent(record, record.topic);

export interface EventSubscriptionOptions<Name extends TopicName> extends Omit<SubscriptionOptions<DecodedEvent<EventOf<Name>>>, 'topics' | 'parse' | 'handle'> {
  /** Registered topics (`topics` of `@loopline/contracts`); the handler's event type is the union of their events. */
  readonly topics: readonly Name[];
  /** Receives each event decoded by its contract; narrow it with `isEvent(event, SomeEventSchema)`. */
  readonly handle: HandleEvent<DecodedEvent<EventOf<Name>>>;
}

/**
 * `subscribe` for Loopline events: every record is parsed through the contracts before the handler
 * sees it (CONVENTIONS: every consumer parses what it receives). This is the entry point services
 * use; plain `subscribe` with a custom `parse` is for foreign or test topics.
 */
export function subscribeToEvents<Name extends TopicName>(kafka: Kafka, options: EventSubscriptionOptions<Name>): Promise<Subscription> {
  const { topics, handle, ...rest } = options;
  // decodeEvent(record, record.topic) yields the event union of whichever topic the record came
  // from; the registry guarantees that is one of `topics`, so the narrower type holds.
  const parse = parseContractEvent as ParseRecord<DecodedEvent<EventOf<Name>>>;
  return subscribe(kafka, { ...rest, topics, parse, handle });
}

/** An event encoded by its contract, ready for `EventProducer.publish`. */
export function contractMessage<Name extends TopicName>(input: EncodeEventInput<Name>): OutgoingMessage {
  return { topic: input.topic, ...encodeEvent(input) };
}
