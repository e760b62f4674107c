// The ports the feature store's use cases run against. Adapters implement them (Postgres,
// ClickHouse, the ingestion service over HTTP, the artifact store); tests substitute what they
// need (a dataset source that serves Parquet files the test wrote).
import type { Readable } from 'node:stream';
import type { AppliedFeatureView, Catalog } from '../domain/definitions/catalog';
import type { DefinitionEvent } from '../domain/definitions/definition-stream';
import type { FeatureValue, OnlineRow } from '../domain/online/online-values';

export interface Clock {
  now(): Date;
}

export interface Ids {
  newId(): string;
}

export interface ColumnInfo {
  readonly name: string;
  readonly type: string;
}

/** A dataset version as the ingestion service describes it. */
export interface DatasetVersionInfo {
  readonly source: string;
  readonly versionId: string;
  /** SHA-256 of the Parquet bytes `download` delivers. */
  readonly sha256: string;
  readonly rowCount: number;
  readonly columns: readonly ColumnInfo[];
  readonly eventTimeColumn: string | null;
  readonly entityColumns: readonly string[];
  readonly createdAt: string;
}

/** One accepted dataset version of a source, as ingestion lists them. */
export interface DatasetVersionSummary {
  readonly versionId: string;
  readonly sha256: string;
  readonly createdAt: string;
  /** Smallest and largest event time of the version's rows, when ingestion knows them. */
  readonly eventTimeRange: TimeRange | null;
}

/** Dataset versions of the ingestion service: described and downloaded, never read from its storage. */
export interface DatasetSource {
  /**
   * `versionId` may be `latest` (ingestion's latest accepted version); the answer names the real id.
   * @throws NotFoundError for an unknown source or version; UnavailableError when ingestion cannot be reached.
   */
  describe(source: string, versionId: string): Promise<DatasetVersionInfo>;
  /** Every accepted (CREATED) version of a source, oldest first. @throws NotFoundError for an unknown source. */
  list(source: string): Promise<DatasetVersionSummary[]>;
  /** Streams the version's Parquet bytes. The caller verifies the SHA-256. */
  open(source: string, versionId: string): Promise<Readable>;
}

export const datasetAccessModes = ['local-files', 'ingestion-url'] as const;

/**
 * How the offline store reaches the bytes of a dataset version:
 * - `local-files`: the feature store downloads the version (SHA-256 checked while it streams) and
 *   ClickHouse reads the local file (`file()`): only an embedded ClickHouse (chDB) sees that file.
 * - `ingestion-url`: ClickHouse fetches the version from the ingestion service's
 *   `/v1/sources/{source}/versions/{id}/data` itself (`url()`), so a ClickHouse server works; the
 *   feature store writes nothing of the dataset to its disk.
 */
export type DatasetAccess = (typeof datasetAccessModes)[number];

/**
 * A dataset version as the offline store reads it: its description by ingestion and, with
 * `local-files`, the local Parquet file verified against its SHA-256 (null with `ingestion-url`:
 * ClickHouse fetches the bytes from ingestion and the offline store verifies them there).
 */
export interface DatasetFile {
  readonly path: string | null;
  readonly info: DatasetVersionInfo;
}

/** The definitions' event streams and their catalog projection. */
export interface DefinitionStore {
  catalog(): Promise<Catalog>;
  /**
   * Appends each stream's events at its expected version, with outbox messages, and updates the
   * catalog, all in one transaction: a file is applied whole or not at all.
   * @throws ConcurrencyError another apply moved one of the streams first.
   */
  append(streams: readonly { readonly streamId: string; readonly expectedVersion: number; readonly events: readonly DefinitionEvent[] }[], metadata: AppendMetadata): Promise<void>;
}

export interface AppendMetadata {
  readonly actor: string;
  readonly time: Date;
  readonly correlationId: string;
}

export interface TimeRange {
  readonly startMs: number;
  readonly endMs: number;
}

/** A row of feature values as the stores exchange them. */
export interface FeatureRow {
  /** Join-key values in the entity order. */
  readonly keys: readonly string[];
  readonly eventTimeMs: number;
  readonly values: Readonly<Record<string, FeatureValue>>;
}

/** The entity rows of a training set: one dataset version, or several read one after the other. */
export interface EntityFiles {
  readonly files: readonly DatasetFile[];
  /** The columns read from every file (those all of them have, in the first file's order). */
  readonly columns: readonly string[];
}

export interface OfflineWriteResult {
  readonly rowCount: number;
  readonly eventTimeRange: TimeRange | null;
  /**
   * The earlier dataset versions (materialized into the same view version before this one) whose
   * rows fed the windowed aggregations, in materialization order; empty for a view without windows.
   */
  readonly windowDatasetVersionIds: readonly string[];
}

/** The offline store (ClickHouse): one table per view version, one partition per dataset version. */
export interface OfflineStore {
  /**
   * Columns of a dataset version's Parquet.
   * @throws ValidationError when it is not readable Parquet; IntegrityError when ClickHouse fetched
   * bytes whose SHA-256 differs from the described one; UnavailableError when ClickHouse cannot
   * fetch it from ingestion.
   */
  columnsOf(dataset: DatasetFile): Promise<ColumnInfo[]>;
  /**
   * Computes the view over the dataset version and makes its rows visible at once, replacing any
   * earlier rows of the same dataset version (so a rerun changes nothing). Windowed aggregations
   * also count the rows of the dataset versions materialized into the view version before this one
   * (a row present in several versions once, with its largest multiplicity in any one of them);
   * the store records that order, so a rerun reads the same versions. The materializations of one
   * view version with windows must not run concurrently (their order is the windows' input).
   */
  materialize(view: AppliedFeatureView, datasetVersionId: string, dataset: DatasetFile): Promise<OfflineWriteResult>;
  /** The latest row per entity of one dataset version, in batches. */
  latestPerEntity(view: AppliedFeatureView, datasetVersionId: string, onBatch: (rows: readonly FeatureRow[]) => Promise<void>): Promise<number>;
  /** Appends pushed rows, tagged with `pushSequence`. */
  push(view: AppliedFeatureView, rows: readonly FeatureRow[], pushSequence: number): Promise<number>;
  /**
   * Runs a training-set query (training-set-sql.ts) over the entity rows, writing Parquet to
   * `outputFile` (a local path) deterministically (same inputs, same bytes, in either dataset
   * access mode). Returns the row count. Several entity dataset versions are read as one relation
   * of `columns`, version by version, each in its order.
   */
  writeTrainingSet(sqlTemplate: string, entities: EntityFiles, outputFile: string): Promise<number>;
  /** Whether rows of the dataset version are stored for the view version. */
  hasPartition(view: AppliedFeatureView, datasetVersionId: string): Promise<boolean>;
  /** Highest push sequence stored for the view version (0 when none). */
  pushHorizon(view: AppliedFeatureView): Promise<number>;
  engineVersion(): Promise<string>;
}

export interface OnlineKey {
  readonly view: string;
  readonly version: number;
  readonly entityKey: string;
}

/** The online store (Postgres): the latest row per (view version, entity). */
export interface OnlineStore {
  /** Upserts rows; a row never replaces a stored one with a later event time. Returns rows written. */
  upsert(view: string, version: number, rows: readonly (FeatureRow & { readonly entityKey: string })[], datasetVersionId: string): Promise<number>;
  read(keys: readonly OnlineKey[]): Promise<Map<string, OnlineRow>>;
}

export type MaterializationStatus = 'running' | 'completed' | 'failed';

export interface MaterializationRecord {
  readonly id: string;
  readonly view: string;
  readonly viewVersion: number;
  readonly source: string;
  readonly datasetVersionId: string;
  readonly status: MaterializationStatus;
  readonly phase: string;
  readonly offlineRowCount: number;
  readonly onlineRowCount: number;
  readonly eventTimeRange: TimeRange | null;
  readonly error: string | null;
  readonly startedAt: string;
  readonly completedAt: string | null;
}

export interface MaterializationLog {
  completed(view: string, version: number, datasetVersionId: string): Promise<MaterializationRecord | undefined>;
  get(id: string): Promise<MaterializationRecord | undefined>;
  list(filter: { readonly view?: string; readonly limit: number }): Promise<MaterializationRecord[]>;
  /** The dataset version last materialized for a view version, if any. */
  latestCompleted(view: string, version: number): Promise<MaterializationRecord | undefined>;
  /** Every dataset version materialized (completed) for a view version, oldest completion first. */
  completedDatasetVersions(view: string, version: number): Promise<string[]>;
  start(record: MaterializationRecord): Promise<void>;
  progress(id: string, phase: string, counts: { readonly offlineRowCount?: number; readonly onlineRowCount?: number }): Promise<void>;
  /** Marks the job completed and publishes `MaterializationCompleted` (outbox), in one transaction. */
  complete(record: MaterializationRecord): Promise<void>;
  fail(id: string, error: string, at: Date): Promise<void>;
  /**
   * Runs `work` while holding an exclusive lock on (view version, dataset version), so two
   * materializations of the same pair never run at once (across replicas too).
   */
  exclusively<T>(view: string, version: number, datasetVersionId: string, work: () => Promise<T>): Promise<T>;
}

/** Dataset versions the service learned of from ingestion's events. */
export interface KnownDatasetVersions {
  record(source: string, versionId: string, rowCount: number, createdAt: Date): Promise<void>;
  latest(source: string): Promise<{ readonly versionId: string } | undefined>;
}

export interface TrainingSetRecord {
  readonly id: string;
  readonly rowCount: number;
  readonly recipe: TrainingSetRecipe;
  readonly artifact: { readonly uri: string; readonly sha256: string; readonly sizeBytes: number };
  readonly createdAt: string;
}

/** Everything needed to rebuild a training set bit for bit. */
export interface TrainingSetRecipe {
  readonly entities: {
    readonly source: string;
    /** The dataset version of the entity rows (with several: the newest of them). */
    readonly versionId: string;
    readonly sha256: string;
    readonly eventTimeColumn: string;
    readonly start: string | null;
    readonly end: string | null;
    /** How the versions were chosen: `version` (one, named), `latest` or `all` (every version in range). */
    readonly selector?: EntitySelector;
    /** Every dataset version whose rows were read, in reading order (absent in recipes of one version recorded before selectors existed). */
    readonly versions?: readonly { readonly versionId: string; readonly sha256: string }[];
    /** The columns read from every version (present when there are several). */
    readonly columns?: readonly string[];
  };
  readonly features: readonly { readonly view: string; readonly version: number; readonly feature: string; readonly column: string }[];
  readonly views: readonly {
    readonly view: string;
    readonly version: number;
    /** The dataset version joined (with several: the newest of them); null when only pushed rows are. */
    readonly datasetVersionId: string | null;
    /** Every dataset version joined, newest first (present when there are several). */
    readonly datasetVersionIds?: readonly string[];
    readonly pushHorizon: number;
    readonly ttlSeconds: number | null;
  }[];
  readonly featureService: string | null;
  /** The query, with `{{entities}}` standing for the entity file. */
  readonly query: string;
  readonly engine: string;
}

export type EntitySelector = 'version' | 'latest' | 'all';

export interface TrainingSetStore {
  save(record: TrainingSetRecord): Promise<TrainingSetRecord>;
  get(id: string): Promise<TrainingSetRecord | undefined>;
}

export interface StoredArtifact {
  readonly uri: string;
  readonly sha256: string;
  readonly sizeBytes: number;
}

/** The feature store's own artifact store (content-addressed), and its scratch area. */
export interface Artifacts {
  temporaryPath(): Promise<string>;
  discard(path: string): Promise<void>;
  /** Hashes a file the service wrote and moves it into the store. */
  storeFile(path: string): Promise<StoredArtifact>;
  read(artifact: Pick<StoredArtifact, 'sha256' | 'sizeBytes'>): Promise<Readable>;
}
