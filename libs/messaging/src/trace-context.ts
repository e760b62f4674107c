import { type Context, propagation, ROOT_CONTEXT, type TextMapGetter, type TextMapSetter, trace } from '@opentelemetry/api';
import type { MessageHeaders } from './message-types';

/** The tracer of this library; resolved through the global provider, so tests can install their own. */
export function messagingTracer() {
  return trace.getTracer('@loopline/messaging');
}

/** Kafka header values arrive as Buffers (or lists when a key repeats); propagators want strings. */
const headerGetter: TextMapGetter<MessageHeaders> = {
  keys: (headers) => Object.keys(headers),
  get: (headers, key) => {
    const value = headers[key];
    if (value === undefined) return undefined;
    if (Array.isArray(value)) return value.map((item) => item.toString());
    return value.toString();
  },
};

const headerSetter: TextMapSetter<Record<string, string | Buffer>> = {
  set: (headers, key, value) => {
    headers[key] = value;
  },
};

/**
 * The W3C trace context (`traceparent`, `tracestate`) of `context`, as headers to merge into a
 * record. Uses the globally registered propagator, so whatever telemetry set up (W3C trace context
 * plus baggage in Loopline) is what travels.
 */
export function traceHeaders(context: Context): Record<string, string | Buffer> {
  const carrier: Record<string, string | Buffer> = {};
  propagation.inject(context, carrier, headerSetter);
  return carrier;
}

/** The remote parent carried by a record's headers; the root context when there is none. */
export function contextFromHeaders(headers: MessageHeaders): Context {
  return propagation.extract(ROOT_CONTEXT, headers, headerGetter);
}

/**
 * Span attribute names from the OpenTelemetry messaging semantic conventions. Spelled out here
 * because they live in the package's unstable "incubating" entry point.
 */
export const messagingAttributes = {
  system: 'messaging.system',
  destination: 'messaging.destination.name',
  partition: 'messaging.destination.partition.id',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  consumerGroup: 'messaging.consumer.group.name',
  offset: 'messaging.kafka.offset',
  messageKey: 'messaging.kafka.message.key',
  /** Not in the conventions: how many handler attempts a delivery took. */
  attempts: 'loopline.messaging.attempts',
  /** Not in the conventions: set when a record went to its dead-letter topic. */
  deadLetterReason: 'loopline.messaging.dead_letter.reason',
} as const;
