/**
 * Broker answers after which an idempotent producer's (producer id, sequence) state is broken for
 * good: kafkajs keeps sending with the stale state and every later send fails or, worse, is
 * silently dropped (REFERENCE 6.3: kafkajs#598, platformatic/kafka#309, #326). The cure is a new
 * producer, which gets a new producer id.
 */
const fatalSequenceErrorTypes: ReadonlySet<string> = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'DUPLICATE_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
  'INVALID_PRODUCER_ID_MAPPING',
  'PRODUCER_FENCED',
]);

/**
 * A timeout leaves it unknown whether the broker appended the batch, so the producer's idea of the
 * next sequence number may be wrong too (REFERENCE 6.1: re-create producers after indeterminate
 * errors such as timeouts). Exhausted retries count as well: some attempt among them may have
 * timed out, and kafkajs itself warns that bounded retries void its idempotence guarantees.
 */
const indeterminateErrorNames: ReadonlySet<string> = new Set(['KafkaJSRequestTimeoutError', 'KafkaJSNumberOfRetriesExceeded']);

/** Whether `error`, or any error it wraps (`cause`, or `errors` of an aggregate), calls for a new producer. */
export function requiresProducerReset(error: unknown): boolean {
  return someInChain(error, (candidate) => {
    const type = property(candidate, 'type');
    const name = property(candidate, 'name');
    return (typeof type === 'string' && fatalSequenceErrorTypes.has(type)) || (typeof name === 'string' && indeterminateErrorNames.has(name));
  });
}

function someInChain(error: unknown, test: (candidate: unknown) => boolean, depth = 0): boolean {
  if (error === undefined || error === null || depth > 10) return false;
  if (test(error)) return true;
  const nested = property(error, 'errors');
  if (Array.isArray(nested) && nested.some((inner) => someInChain(inner, test, depth + 1))) return true;
  return someInChain(property(error, 'cause'), test, depth + 1);
}

function property(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && key in value ? (value as Record<string, unknown>)[key] : undefined;
}
