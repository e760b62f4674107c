// The rules of a source's stream settings (PUT /v1/sources/{name}/stream): which Kafka topic, and
// when a micro-batch of its rows becomes a dataset version. Pure.
import { ValidationError } from '@loopline/errors';
import type { StreamSettings } from './data-source';

export interface StreamSettingsInput {
  readonly topic: string;
  readonly maxRows?: number;
  /** e.g. `500ms`, `30s`, `5m`, `1h`. */
  readonly maxInterval?: string;
}

export const streamDefaults = { maxRows: 10_000, maxInterval: '1m' } as const;
export const streamLimits = { maxRows: 1_000_000, minIntervalMs: 100, maxIntervalMs: 24 * 3_600_000 } as const;

/** Kafka's legal topic names; `__…` topics are the broker's own. */
const topicPattern = /^[A-Za-z0-9._-]{1,249}$/;

export function normalizeStreamSettings(input: StreamSettingsInput): StreamSettings {
  const { topic } = input;
  if (typeof topic !== 'string' || !topicPattern.test(topic) || topic === '.' || topic === '..' || topic.startsWith('__')) {
    throw new ValidationError(`topic ${JSON.stringify(topic)} is not a usable Kafka topic name: 1-249 letters, digits, ".", "_" or "-", not starting with "__"`, { field: 'topic' });
  }
  if (topic.startsWith('loopline.')) {
    throw new ValidationError(`topic "${topic}" is one of Loopline's own topics: a source is fed from a topic of rows`, { field: 'topic' });
  }
  const maxRows = input.maxRows ?? streamDefaults.maxRows;
  if (!Number.isSafeInteger(maxRows) || maxRows < 1 || maxRows > streamLimits.maxRows) {
    throw new ValidationError(`maxRows must be an integer from 1 to ${streamLimits.maxRows}, not ${JSON.stringify(input.maxRows)}`, { field: 'maxRows' });
  }
  const maxIntervalMs = parseDurationMs(input.maxInterval ?? streamDefaults.maxInterval, 'maxInterval');
  if (maxIntervalMs < streamLimits.minIntervalMs || maxIntervalMs > streamLimits.maxIntervalMs) {
    throw new ValidationError(`maxInterval must be from 100ms to 24h, not ${JSON.stringify(input.maxInterval)}`, { field: 'maxInterval' });
  }
  return { topic, maxRows, maxIntervalMs };
}

/** `250ms`, `30s`, `1.5m`, `2h` → milliseconds; a ValidationError naming `field` otherwise. */
export function parseDurationMs(text: string, field: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(typeof text === 'string' ? text.trim() : '');
  if (!match) throw new ValidationError(`${field} ${JSON.stringify(text)} is not a duration: a number and a unit, ms, s, m or h (e.g. 30s)`, { field });
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(match[1]) * unit);
}
