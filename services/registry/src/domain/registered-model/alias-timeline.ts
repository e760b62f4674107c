// Time travel over a model's history: which version an alias pointed at at a given time, read
// from the events themselves (each carries the time its command was accepted).
import { eventTime, type RegisteredModelEvent } from './registered-model';

/**
 * The version `alias` pointed at at `at`, or null if it pointed nowhere then (not set yet, or
 * removed). Events are taken in stream order; those stamped after `at` are ignored.
 */
export function aliasVersionAt(events: readonly RegisteredModelEvent[], alias: string, at: Date): number | null {
  const limit = at.getTime();
  let version: number | null = null;
  for (const event of events) {
    if (Date.parse(eventTime(event)) > limit) continue;
    if (event.type === 'ModelVersionAliasSet' && event.data.alias === alias) version = event.data.version;
    else if (event.type === 'ModelVersionAliasRemoved' && event.data.alias === alias) version = null;
  }
  return version;
}
