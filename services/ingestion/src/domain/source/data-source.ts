// The data source aggregate: one stream per source (`source-<name>`) holding its schema versions
// and the record of every dataset version, accepted or rejected. Dataset versions are
// content-addressed: their id is the SHA-256 of the canonical Parquet, so the same data is the
// same version. Events carry summaries; the bulky profile lives in the artifact store.
import type { ColumnStatistics } from '../validation/profile';
import type { ValidationReport } from '../validation/validate-dataset';
import type { ColumnType, SourceDefinition } from './source-definition';

export interface StoredBlob {
  readonly sha256: string;
  readonly sizeBytes: number;
  readonly uri: string;
}

export type InputFormat = 'csv' | 'jsonl' | 'parquet';
export const inputFormats: readonly InputFormat[] = ['csv', 'jsonl', 'parquet'];

/** Where the data of a version came from. */
export interface DatasetOrigin {
  readonly kind: 'upload' | 'import' | 'stream';
  readonly format: InputFormat;
  /** The import path or URI, or the Kafka topic; null for uploads. */
  readonly location: string | null;
  /** SHA-256 and size of the input file as received. */
  readonly inputSha256: string;
  readonly inputBytes: number;
  /** Id under which the ingestion's progress was reported. */
  readonly ingestionId: string;
  /**
   * For a stream batch: the Kafka offsets it holds, per partition (`from` first, `to` last,
   * inclusive, as decimal text). Recorded with the version, so a restart resumes after them.
   */
  readonly offsets?: readonly StreamOffsetRange[];
}

export interface StreamOffsetRange {
  readonly partition: number;
  readonly from: string;
  readonly to: string;
}

/** How a source is fed from a Kafka topic of rows (one JSON object per message). */
export interface StreamSettings {
  readonly topic: string;
  /** A batch becomes a version when it holds this many rows… */
  readonly maxRows: number;
  /** …or when its first row has waited this long, whichever comes first. */
  readonly maxIntervalMs: number;
}

export interface DatasetColumn {
  readonly name: string;
  readonly type: ColumnType;
  readonly nullable: boolean;
}

/** Everything recorded about one dataset version. */
export interface DatasetVersionRecord {
  readonly source: string;
  readonly versionId: string;
  /** The accepted version validation compared with; null for the first. */
  readonly previousVersionId: string | null;
  readonly schemaVersion: number;
  readonly rowCount: number;
  readonly columns: readonly DatasetColumn[];
  readonly eventTimeColumn: string | null;
  readonly entityColumns: readonly string[];
  /** The canonical Parquet. */
  readonly artifact: StoredBlob;
  /** The profile JSON (quantiles, category counts) the next version is compared with. */
  readonly profile: StoredBlob;
  readonly report: ValidationReport;
  readonly statistics: readonly ColumnStatistics[];
  readonly eventTimeRange: { readonly start: string; readonly end: string } | null;
  readonly origin: DatasetOrigin;
  readonly actor: string;
  readonly recordedAt: string;
}

export type DataSourceEvent =
  | {
      readonly type: 'SourceDeclared';
      readonly data: { readonly source: string; readonly schemaVersion: number; readonly definition: SourceDefinition; readonly actor: string; readonly declaredAt: string };
    }
  | { readonly type: 'DatasetVersionCreated'; readonly data: DatasetVersionRecord }
  | { readonly type: 'DatasetVersionRejected'; readonly data: DatasetVersionRecord }
  | {
      readonly type: 'SourceStreamConfigured';
      readonly data: { readonly source: string; readonly stream: StreamSettings; readonly actor: string; readonly configuredAt: string };
    }
  | { readonly type: 'SourceStreamStopped'; readonly data: { readonly source: string; readonly topic: string; readonly actor: string; readonly stoppedAt: string } };

export type VersionStatus = 'CREATED' | 'REJECTED';

export interface DatasetVersionView extends DatasetVersionRecord {
  readonly status: VersionStatus;
}

export interface DataSourceState {
  readonly name: string | null;
  readonly schemaVersion: number;
  readonly definition: SourceDefinition | null;
  readonly createdAt: string | null;
  readonly updatedAt: string | null;
  readonly latestVersionId: string | null;
  /** Every version by id (a rejected version accepted later is CREATED). */
  readonly versions: Readonly<Record<string, DatasetVersionView>>;
  /** Version ids in the order they were first recorded. */
  readonly order: readonly string[];
  /** The Kafka topic the source is fed from; null when none. */
  readonly stream: (StreamSettings & { readonly configuredAt: string }) | null;
  /** Per `topic:partition`, the next offset after the last one recorded in a version. */
  readonly streamOffsets: Readonly<Record<string, string>>;
}

export const initialDataSourceState: DataSourceState = {
  name: null,
  schemaVersion: 0,
  definition: null,
  createdAt: null,
  updatedAt: null,
  latestVersionId: null,
  versions: {},
  order: [],
  stream: null,
  streamOffsets: {},
};

export function evolveDataSource(state: DataSourceState, event: DataSourceEvent): DataSourceState {
  switch (event.type) {
    case 'SourceDeclared':
      return {
        ...state,
        name: event.data.source,
        schemaVersion: event.data.schemaVersion,
        definition: event.data.definition,
        createdAt: state.createdAt ?? event.data.declaredAt,
        updatedAt: event.data.declaredAt,
      };
    case 'DatasetVersionCreated':
    case 'DatasetVersionRejected': {
      const status: VersionStatus = event.type === 'DatasetVersionCreated' ? 'CREATED' : 'REJECTED';
      const id = event.data.versionId;
      return {
        ...state,
        latestVersionId: status === 'CREATED' ? id : state.latestVersionId,
        versions: { ...state.versions, [id]: { ...event.data, status } },
        order: state.order.includes(id) ? state.order : [...state.order, id],
        streamOffsets: advanceOffsets(state.streamOffsets, event.data.origin),
      };
    }
    case 'SourceStreamConfigured':
      return { ...state, stream: { ...event.data.stream, configuredAt: event.data.configuredAt } };
    case 'SourceStreamStopped':
      return { ...state, stream: null };
    default: {
      const unreachable: never = event;
      throw new Error(`unknown data source event ${JSON.stringify(unreachable)}`);
    }
  }
}

export function streamIdOf(source: string): string {
  return `source-${source}`;
}

/** `topic:partition`: the key of `streamOffsets`. */
export function offsetKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

function advanceOffsets(offsets: Readonly<Record<string, string>>, origin: DatasetOrigin): Readonly<Record<string, string>> {
  if (origin.kind !== 'stream' || !origin.offsets || origin.location === null) return offsets;
  const next = { ...offsets };
  for (const range of origin.offsets) {
    const key = offsetKey(origin.location, range.partition);
    const after = (BigInt(range.to) + 1n).toString();
    if (next[key] === undefined || BigInt(next[key]) < BigInt(after)) next[key] = after;
  }
  return next;
}
