// What the application needs from the world, each behind a narrow port: the event store, the
// artifact store and its upload area, the data engine (chDB), the sources of imports, a clock
// and ids. Adapters implement them; tests may substitute any of them.
import type { ArtifactStore as StoreOfArtifacts, ReceivedFile } from '@loopline/artifacts';
import type { EventStore, NewEvent, OutboxMessage } from '@loopline/eventsourcing';
import type { DataSourceEvent, InputFormat } from '../domain/source/data-source';
import type { SourceDefinition } from '../domain/source/source-definition';
import type { DatasetProfile } from '../domain/validation/profile';

export type { ReceivedFile } from '@loopline/artifacts';

export type ArtifactStore = StoreOfArtifacts;

export interface UploadArea {
  receive(
    source: AsyncIterable<Uint8Array> | NodeJS.ReadableStream,
    options: { readonly maxBytes: number; readonly what: string; readonly onProgress?: (bytes: number) => void },
  ): Promise<ReceivedFile>;
  temporaryPath(): Promise<string>;
  discard(file: Pick<ReceivedFile, 'path'>): Promise<void>;
}

export type IngestionEventStore = Pick<EventStore, 'aggregateStream' | 'appendToStream'>;

/** The phases of an ingestion, in order, as progress reports them. */
export const ingestionPhases = ['queued', 'receiving', 'parsing', 'profiling', 'writing', 'storing', 'recording', 'done', 'failed'] as const;
export type IngestionPhase = (typeof ingestionPhases)[number];

export interface EngineProgress {
  (phase: 'parsing' | 'profiling' | 'writing', detail?: { readonly rowCount?: number }): void;
}

export interface PreparedDataset {
  readonly profile: DatasetProfile;
  /** The canonical Parquet, written to the upload area and hashed; not yet in the store. */
  readonly canonical: ReceivedFile;
}

/**
 * Parses a file as the source's schema, measures it, and writes the canonical Parquet: the
 * declared columns in order, typed, rows sorted by event time, entity keys and the other columns.
 * Throws `ValidationError` naming the problem when the file cannot be read as the schema at all
 * (unknown format, corrupt file, malformed row, a declared column missing).
 */
export interface DataEngine {
  prepare(input: {
    readonly path: string;
    readonly format: InputFormat;
    readonly definition: SourceDefinition;
    readonly source: string;
    readonly onProgress: EngineProgress;
  }): Promise<PreparedDataset>;
}

/** Files the service reads by path or URI (imports). */
export interface ImportSources {
  /** The checked, real path of a local file inside the allowed folders (ValidationError otherwise). */
  resolveLocalPath(path: string): Promise<string>;
  /** Downloads an allowed `s3://bucket/key` into the upload area. */
  downloadS3(uri: string, options: { readonly maxBytes: number; readonly onProgress: (bytes: number) => void }): Promise<ReceivedFile>;
}

export interface Clock {
  now(): Date;
}

export interface Ids {
  newId(): string;
}

export type OutboxMapper = (events: readonly NewEvent<DataSourceEvent>[]) => OutboxMessage[];

/** Who acts and in which flow; from request headers or metadata. */
export interface RequestContext {
  readonly actor: string;
  readonly correlationId?: string;
}
