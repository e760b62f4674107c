/**
 * A domain event as deciders produce it: a past-tense `type` and a JSON-serialisable `data`
 * object. Domain code declares a union of these (`{ type: 'ModelVersionPromoted'; data: {...} }`).
 */
export interface DomainEvent {
  readonly type: string;
  readonly data: object;
}

/**
 * Facts about an event that are not part of the domain: who, when, why, and the trace it belongs
 * to. They arrive in the command's metadata; domain code never reads a clock or makes ids.
 */
export interface EventMetadata {
  /** ISO-8601 time at which the command was accepted. */
  readonly time: string;
  /** The user or service that caused the event. */
  readonly actor: string;
  /** Shared by every message of one business flow. */
  readonly correlationId: string;
  /** The id of the command or event that directly caused this event. */
  readonly causationId?: string;
  /** W3C trace context of the append, so a consumer's span joins the producer's trace. */
  readonly traceparent?: string;
  readonly tracestate?: string;
}

/**
 * An event ready to append. `eventId` (a UUID) is the idempotency key: appending the same ids
 * again at the same expected version is a no-op returning the original positions.
 */
export type NewEvent<E extends DomainEvent = DomainEvent> = E & {
  readonly eventId: string;
  readonly metadata: EventMetadata;
};

/** An event as stored, with where it sits in its stream and in the whole store. */
export type RecordedEvent<E extends DomainEvent = DomainEvent> = E & {
  readonly eventId: string;
  readonly streamId: string;
  /** 1-based, contiguous within the stream; equals the stream version after this event. */
  readonly streamPosition: number;
  /** Unique across the store. Increasing but NOT the order of commit: see `readAll`. */
  readonly globalPosition: number;
  readonly metadata: EventMetadata;
  readonly recordedAt: Date;
};

/**
 * Turns a stored event into the domain's type, or `undefined` to skip it (an event type this
 * reader does not know). This is where upcasting and parsing live; without one the stored
 * shape is trusted as-is.
 */
export type EventDecoder<E extends DomainEvent> = (event: RecordedEvent) => RecordedEvent<E> | undefined;

/** Where one appended event landed. */
export interface EventPosition {
  readonly eventId: string;
  readonly streamPosition: number;
  readonly globalPosition: number;
}
