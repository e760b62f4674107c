// The ingestion use cases: declare sources, ingest files (upload, import by path or S3 URI),
// read sources and dataset versions. Each handler loads the source's stream, decides, and appends
// at the loaded version with its outbox messages, so the event store and Kafka never disagree.
//
// An ingestion: receive the file to disk (hashed while streaming) → the data engine parses it as
// the schema, profiles it and writes the canonical Parquet → if that Parquet is an accepted
// version already, UNCHANGED (nothing stored, nothing published) → validate against the schema
// and the previous accepted version's profile → store the Parquet and the profile (content-
// addressed) → append DatasetVersionCreated or DatasetVersionRejected with its outbox message.
// Anything that fails before the append leaves no version and no event; temporary files are
// always removed. Artifacts are stored before the append, so an event never names a missing blob.
import { extname } from 'node:path';
import { Readable } from 'node:stream';
import { ConcurrencyError, NotFoundError, ValidationError } from '@loopline/errors';
import type { NewEvent } from '@loopline/eventsourcing';
import { receivedFileOf } from '@loopline/artifacts';
import { writeFile } from 'node:fs/promises';
import { dataSourceDecider, type DataSourceCommand } from '../domain/source/data-source.decide';
import {
  inputFormats,
  streamIdOf,
  type DataSourceEvent,
  type DataSourceState,
  type DatasetOrigin,
  type DatasetVersionRecord,
  type DatasetVersionView,
  type InputFormat,
  type StreamOffsetRange,
  type StreamSettings,
} from '../domain/source/data-source';
import { assertSourceName, normalizeSourceDefinition, type SourceDefinition, type SourceDefinitionInput } from '../domain/source/source-definition';
import { columnStatistics, type DatasetProfile } from '../domain/validation/profile';
import { rejects, validateDataset, type ValidationReport } from '../domain/validation/validate-dataset';
import { IngestionProgress, type IngestionTracker } from './ingestion-progress';
import type { ArtifactStore, Clock, DataEngine, Ids, ImportSources, IngestionEventStore, OutboxMapper, ReceivedFile, RequestContext, UploadArea } from './ports';
import { Semaphore } from './semaphore';

export interface SourceView {
  readonly name: string;
  readonly schemaVersion: number;
  readonly definition: SourceDefinition;
  readonly latestVersionId: string | null;
  readonly versionCount: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** The Kafka topic feeding the source, and how its rows are batched; null when none. */
  readonly stream: (StreamSettings & { readonly configuredAt: string }) | null;
}

export type IngestionStatus = 'CREATED' | 'REJECTED' | 'UNCHANGED';

export interface IngestionResult {
  readonly source: string;
  readonly versionId: string;
  readonly status: IngestionStatus;
  readonly rowCount: number;
  readonly report: ValidationReport;
  readonly ingestionId: string;
  readonly version: DatasetVersionView;
}

export interface IngestionSettings {
  readonly maxUploadBytes: number;
  /** Ingestions processed at once; more wait their turn (phase `queued`). */
  readonly concurrency: number;
}

export interface IngestionDependencies {
  readonly events: () => Promise<IngestionEventStore>;
  readonly artifacts: ArtifactStore;
  readonly uploads: UploadArea;
  readonly engine: DataEngine;
  readonly imports: ImportSources;
  readonly clock: Clock;
  readonly ids: Ids;
  readonly toOutbox: OutboxMapper;
  readonly progress: IngestionProgress;
  readonly settings: IngestionSettings;
}

const maxAttempts = 3;
const ingestionIdPattern = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export class IngestionApplication {
  private readonly slots: Semaphore;
  /** Profiles are immutable (content-addressed): cache the few most recent. */
  private readonly profiles = new Map<string, DatasetProfile>();

  constructor(private readonly deps: IngestionDependencies) {
    this.slots = new Semaphore(deps.settings.concurrency);
  }

  get progress(): IngestionProgress {
    return this.deps.progress;
  }

  // ---------------------------------------------------------------------------------------------
  // Sources

  async putSource(name: string, input: SourceDefinitionInput, context: RequestContext): Promise<{ source: SourceView; changed: boolean }> {
    assertSourceName(name);
    const definition = normalizeSourceDefinition(input);
    const store = await this.deps.events();
    for (let attempt = 1; ; attempt += 1) {
      const { state, version } = await store.aggregateStream(streamIdOf(name), dataSourceDecider);
      const decided = dataSourceDecider.decide({ type: 'DeclareSource', data: { source: name, definition }, metadata: this.meta(context) }, state);
      if (decided.length === 0) return { source: sourceView(state), changed: false };
      try {
        await store.appendToStream(streamIdOf(name), this.toNewEvents(decided, context), { expectedVersion: version, streamType: 'source' });
        return { source: sourceView(decided.reduce(dataSourceDecider.evolve, state)), changed: true };
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || attempt >= maxAttempts) throw error;
      }
    }
  }

  /** Feeds the source from a Kafka topic (or changes its batching); `changed` is false when it already was. */
  async configureStream(name: string, stream: StreamSettings, context: RequestContext): Promise<{ source: SourceView; changed: boolean }> {
    assertSourceName(name);
    return this.decideOnSource(name, context, (metadata) => ({ type: 'ConfigureStream', data: { source: name, stream }, metadata }));
  }

  /** Stops feeding the source from its topic (NotFoundError when it is not fed from one). */
  async stopStream(name: string, context: RequestContext): Promise<SourceView> {
    assertSourceName(name);
    return (await this.decideOnSource(name, context, (metadata) => ({ type: 'StopStream', data: { source: name }, metadata }))).source;
  }

  /** Per partition of `topic`, the offset after the last one recorded in a version of the source. */
  async recordedStreamOffsets(name: string, topic: string): Promise<Map<number, string>> {
    const state = await this.loadSource(name);
    const offsets = new Map<number, string>();
    for (const [key, offset] of Object.entries(state.streamOffsets)) {
      const at = key.lastIndexOf(':');
      if (key.slice(0, at) === topic) offsets.set(Number(key.slice(at + 1)), offset);
    }
    return offsets;
  }

  private async decideOnSource(name: string, context: RequestContext, command: (metadata: { actor: string; at: string }) => DataSourceCommand): Promise<{ source: SourceView; changed: boolean }> {
    const store = await this.deps.events();
    for (let attempt = 1; ; attempt += 1) {
      const { state, version } = await store.aggregateStream(streamIdOf(name), dataSourceDecider);
      const decided = dataSourceDecider.decide(command(this.meta(context)), state);
      if (decided.length === 0) return { source: sourceView(state), changed: false };
      try {
        await store.appendToStream(streamIdOf(name), this.toNewEvents(decided, context), { expectedVersion: version, streamType: 'source' });
        return { source: sourceView(decided.reduce(dataSourceDecider.evolve, state)), changed: true };
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || attempt >= maxAttempts) throw error;
      }
    }
  }

  async getSource(name: string): Promise<SourceView> {
    return sourceView(await this.loadSource(name));
  }

  /** Versions newest first. */
  async listVersions(name: string): Promise<DatasetVersionView[]> {
    const state = await this.loadSource(name);
    return [...state.order].reverse().map((id) => state.versions[id]!);
  }

  async getVersion(name: string, versionId: string): Promise<DatasetVersionView> {
    const state = await this.loadSource(name);
    const version = /^[0-9a-f]{64}$/.test(versionId) ? state.versions[versionId] : undefined;
    if (!version) throw new NotFoundError(`source "${name}" has no dataset version ${JSON.stringify(versionId)}`, { source: name, versionId });
    return version;
  }

  // ---------------------------------------------------------------------------------------------
  // Ingestion

  /** A new progress tracker; `requestedId` (a client's own id) must be unused. */
  beginIngestion(source: string, requestedId?: string): IngestionTracker {
    let id = requestedId;
    if (id !== undefined) {
      if (!ingestionIdPattern.test(id)) throw new ValidationError('the ingestion id must be 1-128 letters, digits, ".", "_", ":" or "-"', { field: 'ingestionId' });
      if (this.deps.progress.get(id)) throw new ValidationError(`ingestion id "${id}" is already in use`, { field: 'ingestionId' });
    }
    id ??= this.deps.ids.newId();
    return this.deps.progress.start(id, source);
  }

  /** Ingests a byte stream (REST body, multipart part, gRPC chunks), writing it to disk first. */
  async ingestStream(
    input: { readonly source: string; readonly format: InputFormat; readonly body: AsyncIterable<Uint8Array> | NodeJS.ReadableStream; readonly tracker?: IngestionTracker },
    context: RequestContext,
  ): Promise<IngestionResult> {
    const tracker = input.tracker ?? this.beginIngestion(input.source);
    let file: ReceivedFile | undefined;
    try {
      // Before a byte is read: an unknown source fails at once.
      await this.loadSource(input.source);
      tracker.phase('receiving');
      file = await this.deps.uploads.receive(input.body, {
        maxBytes: this.deps.settings.maxUploadBytes,
        what: 'the uploaded file',
        onProgress: (bytes) => tracker.received(bytes),
      });
      const received = file;
      const origin: Omit<DatasetOrigin, 'ingestionId'> = {
        kind: 'upload',
        format: input.format,
        location: null,
        inputSha256: received.sha256,
        inputBytes: received.sizeBytes,
      };
      return await this.ingestFile(input.source, received.path, origin, tracker, context);
    } catch (error) {
      tracker.failed(error);
      throw error;
    } finally {
      if (file) await this.deps.uploads.discard(file);
    }
  }

  /** Ingests a file the service reads itself: an allowed local path, or an allowed S3 object. */
  async importFile(
    input: { readonly source: string; readonly path?: string; readonly uri?: string; readonly format?: InputFormat; readonly tracker?: IngestionTracker },
    context: RequestContext,
  ): Promise<IngestionResult> {
    const tracker = input.tracker ?? this.beginIngestion(input.source);
    let downloaded: ReceivedFile | undefined;
    try {
      if ((input.path === undefined) === (input.uri === undefined)) {
        throw new ValidationError('give exactly one of "path" (a file in an import folder) or "uri" (s3://bucket/key)', { field: 'path' });
      }
      const location = (input.path ?? input.uri)!;
      const format = input.format ?? formatOfName(location);
      await this.loadSource(input.source);
      let path: string;
      let inputSha256: string;
      let inputBytes: number;
      if (input.path !== undefined) {
        path = await this.deps.imports.resolveLocalPath(input.path);
        tracker.phase('receiving');
        const hashed = await receivedFileOf(path);
        tracker.received(hashed.sizeBytes);
        ({ sha256: inputSha256, sizeBytes: inputBytes } = hashed);
      } else {
        tracker.phase('receiving');
        downloaded = await this.deps.imports.downloadS3(input.uri!, { maxBytes: this.deps.settings.maxUploadBytes, onProgress: (bytes) => tracker.received(bytes) });
        ({ path, sha256: inputSha256, sizeBytes: inputBytes } = downloaded);
      }
      return await this.ingestFile(input.source, path, { kind: 'import', format, location, inputSha256, inputBytes }, tracker, context);
    } catch (error) {
      tracker.failed(error);
      throw error;
    } finally {
      if (downloaded) await this.deps.uploads.discard(downloaded);
    }
  }

  /**
   * Ingests a micro-batch of rows read from a Kafka topic (one JSON object per line) as JSON Lines;
   * the batch's offsets are recorded with the version, so a restart resumes after them.
   */
  async ingestStreamBatch(
    input: { readonly source: string; readonly topic: string; readonly lines: readonly string[]; readonly offsets: readonly StreamOffsetRange[] },
    context: RequestContext,
  ): Promise<IngestionResult> {
    const tracker = this.beginIngestion(input.source);
    let file: ReceivedFile | undefined;
    try {
      tracker.phase('receiving');
      file = await this.deps.uploads.receive(
        Readable.from(input.lines.map((line) => Buffer.from(`${line}\n`))),
        { maxBytes: this.deps.settings.maxUploadBytes, what: 'the stream batch', onProgress: (bytes) => tracker.received(bytes) },
      );
      const origin: Omit<DatasetOrigin, 'ingestionId'> = {
        kind: 'stream',
        format: 'jsonl',
        location: input.topic,
        inputSha256: file.sha256,
        inputBytes: file.sizeBytes,
        offsets: input.offsets,
      };
      return await this.ingestFile(input.source, file.path, origin, tracker, context);
    } catch (error) {
      tracker.failed(error);
      throw error;
    } finally {
      if (file) await this.deps.uploads.discard(file);
    }
  }

  private async ingestFile(
    source: string,
    path: string,
    originWithoutId: Omit<DatasetOrigin, 'ingestionId'>,
    tracker: IngestionTracker,
    context: RequestContext,
  ): Promise<IngestionResult> {
    const origin: DatasetOrigin = { ...originWithoutId, ingestionId: tracker.id };
    tracker.phase('queued');
    const release = await this.slots.acquire();
    let canonical: ReceivedFile | undefined;
    let profileFile: ReceivedFile | undefined;
    try {
      const loaded = await this.loadSource(source);
      const definition = loaded.definition!;
      const schemaVersion = loaded.schemaVersion;
      const prepared = await this.deps.engine.prepare({
        path,
        format: origin.format,
        definition,
        source,
        onProgress: (phase, detail) => tracker.phase(phase, detail ?? {}),
      });
      canonical = prepared.canonical;
      const { profile } = prepared;
      const versionId = canonical.sha256;
      tracker.phase('storing', { rowCount: profile.rowCount });

      const store = await this.deps.events();
      let artifact: DatasetVersionRecord['artifact'] | undefined;
      let storedProfile: DatasetVersionRecord['profile'] | undefined;
      for (let attempt = 1; ; attempt += 1) {
        const { state, version: streamVersion } = await store.aggregateStream(streamIdOf(source), dataSourceDecider);
        const existing = state.versions[versionId];
        if (existing?.status === 'CREATED') return this.finish(tracker, existing, 'UNCHANGED');
        const previousVersionId = state.latestVersionId;
        const previous = previousVersionId ? { versionId: previousVersionId, profile: await this.loadProfile(state.versions[previousVersionId]!) } : null;
        const report = validateDataset(definition, profile, previous);
        if (existing && rejects(report)) return this.finish(tracker, existing, 'REJECTED');

        // Stored once, before the event that names them (idempotent: content-addressed).
        if (!artifact) artifact = await this.deps.artifacts.put(canonical);
        if (!storedProfile) {
          profileFile = await this.writeProfile(profile);
          storedProfile = await this.deps.artifacts.put(profileFile);
        }
        const candidate: Omit<DatasetVersionRecord, 'actor' | 'recordedAt'> = {
          source,
          versionId,
          previousVersionId,
          schemaVersion,
          rowCount: profile.rowCount,
          columns: definition.columns.map((column) => ({ name: column.name, type: column.type, nullable: column.nullable })),
          eventTimeColumn: definition.eventTimeColumn,
          entityColumns: definition.entityColumns,
          artifact,
          profile: storedProfile,
          report,
          statistics: columnStatistics(profile),
          eventTimeRange: profile.eventTimeRange,
          origin,
        };
        tracker.phase('recording', { rowCount: profile.rowCount });
        try {
          const decided = dataSourceDecider.decide({ type: 'RecordDatasetVersion', data: { candidate }, metadata: this.meta(context) }, state);
          if (decided.length === 0) {
            // Only when the version appeared in between (the checks above saw the same state).
            return this.finish(tracker, state.versions[versionId]!, state.versions[versionId]!.status === 'CREATED' ? 'UNCHANGED' : 'REJECTED');
          }
          const events = this.toNewEvents(decided, context);
          await store.appendToStream(streamIdOf(source), events, { expectedVersion: streamVersion, streamType: 'source', outbox: this.deps.toOutbox(events) });
          const after = decided.reduce(dataSourceDecider.evolve, state);
          const recorded = after.versions[versionId]!;
          return this.finish(tracker, recorded, recorded.status);
        } catch (error) {
          // Another version was accepted, or the schema changed: compare again with the new state.
          if (!(error instanceof ConcurrencyError) || attempt >= maxAttempts) throw error;
        }
      }
    } finally {
      release();
      // Moved into the store when kept; otherwise these are the only copies and go.
      if (canonical) await this.deps.uploads.discard(canonical);
      if (profileFile) await this.deps.uploads.discard(profileFile);
    }
  }

  private finish(tracker: IngestionTracker, version: DatasetVersionView, status: IngestionStatus): IngestionResult {
    tracker.succeeded({ status, versionId: version.versionId, rowCount: version.rowCount });
    return { source: version.source, versionId: version.versionId, status, rowCount: version.rowCount, report: version.report, ingestionId: tracker.id, version };
  }

  private async writeProfile(profile: DatasetProfile): Promise<ReceivedFile> {
    const path = await this.deps.uploads.temporaryPath();
    await writeFile(path, JSON.stringify(profile), { flag: 'wx', mode: 0o600 });
    return receivedFileOf(path);
  }

  private async loadProfile(version: DatasetVersionView): Promise<DatasetProfile> {
    const cached = this.profiles.get(version.profile.sha256);
    if (cached) return cached;
    const stream = await this.deps.artifacts.read(version.profile);
    const chunks: Buffer[] = [];
    for await (const chunk of Readable.from(stream)) chunks.push(chunk as Buffer);
    const profile = JSON.parse(Buffer.concat(chunks).toString('utf8')) as DatasetProfile;
    this.profiles.set(version.profile.sha256, profile);
    while (this.profiles.size > 16) this.profiles.delete(this.profiles.keys().next().value!);
    return profile;
  }

  private async loadSource(name: string): Promise<DataSourceState> {
    assertSourceName(name);
    const store = await this.deps.events();
    const { state } = await store.aggregateStream(streamIdOf(name), dataSourceDecider);
    if (state.definition === null) throw new NotFoundError(`unknown source "${name}": declare it first with PUT /v1/sources/${name}`, { source: name });
    return state;
  }

  private meta(context: RequestContext) {
    return { actor: context.actor, at: this.deps.clock.now().toISOString() };
  }

  private toNewEvents(events: readonly DataSourceEvent[], context: RequestContext): NewEvent<DataSourceEvent>[] {
    const commandId = this.deps.ids.newId();
    const time = this.deps.clock.now().toISOString();
    return events.map((event) => ({
      ...event,
      eventId: this.deps.ids.newId(),
      metadata: { time, actor: context.actor, correlationId: context.correlationId ?? commandId, causationId: commandId },
    }));
  }
}

export function sourceView(state: DataSourceState): SourceView {
  return {
    name: state.name!,
    schemaVersion: state.schemaVersion,
    definition: state.definition!,
    latestVersionId: state.latestVersionId,
    versionCount: state.order.length,
    createdAt: state.createdAt!,
    updatedAt: state.updatedAt!,
    stream: state.stream,
  };
}

/** `csv`, `jsonl` or `parquet`, or a ValidationError naming the accepted values. */
export function parseFormat(value: string | undefined, field = 'format'): InputFormat {
  const normalized = value?.toLowerCase();
  const aliases: Record<string, InputFormat> = { csv: 'csv', jsonl: 'jsonl', ndjson: 'jsonl', 'json-lines': 'jsonl', parquet: 'parquet' };
  const format = normalized !== undefined ? aliases[normalized] : undefined;
  if (!format) {
    throw new ValidationError(`unknown format ${JSON.stringify(value)}: one of ${inputFormats.join(', ')}`, { field, allowed: inputFormats });
  }
  return format;
}

/** The format a file name's extension implies. */
export function formatOfName(name: string): InputFormat {
  const extension = extname(name.split('?')[0]!).toLowerCase();
  const byExtension: Record<string, InputFormat> = { '.csv': 'csv', '.jsonl': 'jsonl', '.ndjson': 'jsonl', '.parquet': 'parquet', '.pq': 'parquet' };
  const format = byExtension[extension];
  if (!format) {
    throw new ValidationError(`cannot tell the format of ${JSON.stringify(name)} from its extension: give "format" (${inputFormats.join(', ')})`, {
      field: 'format',
      allowed: inputFormats,
    });
  }
  return format;
}
