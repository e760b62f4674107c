import type { EventPosition } from '../events/event';
import { requiredVersion, type ExpectedVersion } from '../events/expected-version';

/** Where a requested event id already sits in the store. */
export interface StoredEventLocation extends EventPosition {
  readonly streamId: string;
}

/**
 * What an append that did not go through (version mismatch or duplicate event id) actually was.
 * EventStoreDB's idempotence rules (REFERENCE.md §6.2):
 * - every id already in this stream, in order, exactly where this append would have put them
 *   → `replay`: the first attempt succeeded and its acknowledgement was lost;
 * - none of the ids stored → `conflict`: someone else moved the stream (wrong expected version);
 * - all ids in this stream but elsewhere → `misplaced`: a conflict, the expected version is stale;
 * - some ids stored and some not, or stored out of order → `partial`: not a retry of one append;
 * - an id stored in another stream → `foreign`: an id collision.
 * With `'any'` there is no position to compare, so any in-order contiguous run counts as a replay.
 */
export type RetryClassification =
  | { readonly kind: 'replay'; readonly positions: readonly EventPosition[] }
  | { readonly kind: 'conflict' }
  | { readonly kind: 'misplaced'; readonly firstStoredPosition: number }
  | { readonly kind: 'partial'; readonly alreadyAppended: readonly string[]; readonly notAppended: readonly string[] }
  | { readonly kind: 'foreign'; readonly eventId: string; readonly otherStreamId: string };

export function classifyRetry(
  streamId: string,
  requestedIds: readonly string[],
  found: readonly StoredEventLocation[],
  expectedVersion: ExpectedVersion,
): RetryClassification {
  if (found.length === 0) return { kind: 'conflict' };
  const foreign = found.find((location) => location.streamId !== streamId);
  if (foreign) return { kind: 'foreign', eventId: foreign.eventId, otherStreamId: foreign.streamId };

  const byId = new Map(found.map((location) => [location.eventId, location]));
  const positions = requestedIds.map((id) => byId.get(id));
  const stored = positions.filter((position): position is StoredEventLocation => position !== undefined);
  const inOrder = stored.every((position, index) => index === 0 || position.streamPosition === stored[index - 1]!.streamPosition + 1);
  if (stored.length !== requestedIds.length || !inOrder) {
    return {
      kind: 'partial',
      alreadyAppended: requestedIds.filter((id) => byId.has(id)),
      notAppended: requestedIds.filter((id) => !byId.has(id)),
    };
  }

  const firstStoredPosition = stored[0]!.streamPosition;
  const required = requiredVersion(expectedVersion);
  if (required !== undefined && firstStoredPosition !== required + 1) return { kind: 'misplaced', firstStoredPosition };
  return { kind: 'replay', positions: stored.map(({ eventId, streamPosition, globalPosition }) => ({ eventId, streamPosition, globalPosition })) };
}
