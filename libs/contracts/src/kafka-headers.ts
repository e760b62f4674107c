import { ContractError } from './contract-error';

/** A header value as kafkajs hands it to consumers. */
export type IncomingKafkaHeaderValue = Buffer | string | readonly (Buffer | string)[] | undefined;

/** Headers as kafkajs hands them to consumers (structurally equal to kafkajs `IHeaders`). */
export interface IncomingKafkaHeaders {
  readonly [name: string]: IncomingKafkaHeaderValue;
}

/**
 * Turns raw Kafka headers into one string per lower-case header name. Kafka allows a header to
 * repeat; a repeated header is accepted only when every copy is equal, because picking one of
 * two different `ce_type` values would be a guess. Absent and empty-list headers are dropped.
 */
export function normalizeKafkaHeaders(headers: IncomingKafkaHeaders | undefined): ReadonlyMap<string, string> {
  const normalized = new Map<string, string>();
  for (const [rawName, rawValue] of Object.entries(headers ?? {})) {
    if (rawValue === undefined) continue;
    const copies = (isList(rawValue) ? rawValue : [rawValue]).map(headerText);
    if (copies.length === 0) continue;
    // Header names are case-sensitive in Kafka, but the CloudEvents binding spells them in lower
    // case and some producers capitalise `Content-Type`.
    const name = rawName.toLowerCase();
    const existing = normalized.get(name);
    const distinct = new Set(existing === undefined ? copies : [existing, ...copies]);
    if (distinct.size > 1) {
      throw new ContractError(
        'INVALID_HEADER',
        `header ${name} appears more than once with different values: ${[...distinct].map((v) => JSON.stringify(v)).join(', ')}`,
      );
    }
    normalized.set(name, copies[0]);
  }
  return normalized;
}

function isList(value: Buffer | string | readonly (Buffer | string)[]): value is readonly (Buffer | string)[] {
  return Array.isArray(value);
}

function headerText(value: Buffer | string): string {
  return typeof value === 'string' ? value : value.toString('utf8');
}
