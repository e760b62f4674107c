/**
 * Why a message does not honour the contracts. None of these is transient: a consumer that gets
 * one should dead-letter the message rather than retry it, and a producer has a bug to fix.
 *
 * - `UNKNOWN_TOPIC`: the topic is not in the topic registry. Producer: use a name from `topics`.
 *   Consumer: subscribe only to registered topics.
 * - `INVALID_TOPIC_NAME`: a name does not follow `loopline.<service>.<stream>.v<major>`.
 * - `WRONG_TOPIC`: the event type is a Loopline event, but another topic carries it. Producer:
 *   publish it to the topic the registry names.
 * - `UNKNOWN_EVENT_TYPE`: the CloudEvents `type` is not a Loopline event type, e.g. a producer
 *   runs a newer contract than this consumer. Consumer: upgrade `@loopline/contracts`.
 * - `MISSING_HEADER`: a required Kafka header (`ce_specversion`, `ce_id`, `ce_type`,
 *   `ce_source`, `ce_time`, `content-type`) is absent or empty.
 * - `INVALID_HEADER`: a header is present but malformed (unsupported spec version or content
 *   type, a time that is not RFC 3339, one header repeated with different values).
 * - `INVALID_ENVELOPE`: what a producer passed to `encodeEvent` cannot form a valid CloudEvent
 *   (empty key, id or source, an invalid time, a bad extension name).
 * - `INVALID_PAYLOAD`: the Kafka value is absent, is not JSON, or is not the proto3 JSON mapping
 *   of the event's message (unknown field, wrong type).
 */
export type ContractErrorCode =
  | 'UNKNOWN_TOPIC'
  | 'INVALID_TOPIC_NAME'
  | 'WRONG_TOPIC'
  | 'UNKNOWN_EVENT_TYPE'
  | 'MISSING_HEADER'
  | 'INVALID_HEADER'
  | 'INVALID_ENVELOPE'
  | 'INVALID_PAYLOAD';

/** The one error class of `@loopline/contracts`; switch on `code`, show `message` to people. */
export class ContractError extends Error {
  override readonly name = 'ContractError';

  constructor(
    readonly code: ContractErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
