import type { RecordedEvent } from '../events/event';

/**
 * A read model: one JSON document per id, folded from events in commit-safe order.
 *
 * `evolve` returns the new document, the same object to leave it unchanged, or `null` to delete
 * it. It must be deterministic (no clock, no I/O): `rebuild()` replays every event and must
 * arrive at the same documents as the live run.
 */
export interface Projection<Doc> {
  /** Unique in the schema; names the checkpoint and (unless `table` is given) the table `projection_<name>`. */
  readonly name: string;
  /** Bump when `evolve` changes meaning: a runner that finds an older version stored rebuilds. */
  readonly version: number;
  readonly table?: string;
  /** The document an event touches, or `undefined` to ignore the event. Default: its stream id. */
  documentId?(event: RecordedEvent): string | undefined;
  evolve(document: Doc | null, event: RecordedEvent): Doc | null;
}
