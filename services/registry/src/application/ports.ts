// What the application layer needs from the outside world. Adapters implement these; handlers
// receive only the ports they use.
import type { ReceivedFile } from '@loopline/artifacts';
import type { EventStore } from '@loopline/eventsourcing';
import type { ModelSignature } from '../domain/registered-model/registered-model';

/** A received upload and the content-addressed store: see @loopline/artifacts. */
export type { ArtifactStore, ReceivedFile } from '@loopline/artifacts';

/** Where uploads land while they stream in and are validated (`UploadArea` of @loopline/artifacts). */
export interface UploadArea {
  /**
   * Streams `source` into a new temporary file, hashing as it goes and never holding the whole
   * file in memory. Throws `ValidationError` naming `what` when more than `maxBytes` arrive or
   * nothing does.
   */
  receive(source: AsyncIterable<Uint8Array>, options: { readonly maxBytes: number; readonly what: string }): Promise<ReceivedFile>;
  /** Removes a received file; a no-op when it was moved into the store already. */
  discard(file: ReceivedFile): Promise<void>;
}

/** Loads a model in isolation and reads its signature; `ValidationError` saying why it is refused. */
export interface ModelValidator {
  validate(file: ReceivedFile): Promise<ModelSignature>;
}

export interface Clock {
  now(): Date;
}

export interface IdGenerator {
  /** A fresh UUID. */
  newId(): string;
}

/** The event store as the registry uses it. */
export type RegistryEventStore = Pick<EventStore, 'aggregateStream' | 'appendToStream' | 'readStream'>;

/** Who asks, and the trace of the request; the application adds the time and the ids. */
export interface RequestContext {
  readonly actor: string;
  /** Shared by every message of one business flow; a fresh id when the caller sent none. */
  readonly correlationId?: string;
}
