// Commands on a data source, decided against its state. Pure: the actor and the time arrive in
// the command; the candidate's validation happened before (it needs I/O) and arrives with the
// basis it was computed on, which `decide` checks is still current.
import type { Decider } from '@loopline/eventsourcing';
import { ConcurrencyError, NotFoundError } from '@loopline/errors';
import { rejects } from '../validation/validate-dataset';
import { evolveDataSource, initialDataSourceState, type DataSourceEvent, type DataSourceState, type DatasetVersionRecord, type StreamSettings } from './data-source';
import { sameDefinition, type SourceDefinition } from './source-definition';

export interface CommandMeta {
  readonly actor: string;
  /** ISO-8601 time the command was accepted. */
  readonly at: string;
}

export interface DeclareSource {
  readonly type: 'DeclareSource';
  readonly data: { readonly source: string; readonly definition: SourceDefinition };
  readonly metadata: CommandMeta;
}

/**
 * Record a validated candidate. `candidate` lacks what `decide` sets (actor, time); its report
 * decides accepted or rejected. `basis` is what the validation assumed: the schema version the
 * data was parsed with and the accepted version it was compared with.
 */
export interface RecordDatasetVersion {
  readonly type: 'RecordDatasetVersion';
  readonly data: {
    readonly candidate: Omit<DatasetVersionRecord, 'actor' | 'recordedAt'>;
  };
  readonly metadata: CommandMeta;
}

/** Feed the source from a Kafka topic (or change the batching of its feed). */
export interface ConfigureStream {
  readonly type: 'ConfigureStream';
  readonly data: { readonly source: string; readonly stream: StreamSettings };
  readonly metadata: CommandMeta;
}

/** Stop feeding the source from its topic. */
export interface StopStream {
  readonly type: 'StopStream';
  readonly data: { readonly source: string };
  readonly metadata: CommandMeta;
}

export type DataSourceCommand = DeclareSource | RecordDatasetVersion | ConfigureStream | StopStream;

export function decideDataSource(command: DataSourceCommand, state: DataSourceState): DataSourceEvent[] {
  switch (command.type) {
    case 'DeclareSource':
      return declareSource(command, state);
    case 'RecordDatasetVersion':
      return recordDatasetVersion(command, state);
    case 'ConfigureStream':
      return configureStream(command, state);
    case 'StopStream':
      return stopStream(command, state);
    default: {
      const unreachable: never = command;
      throw new Error(`unknown command ${JSON.stringify(unreachable)}`);
    }
  }
}

function declareSource(command: DeclareSource, state: DataSourceState): DataSourceEvent[] {
  const { source, definition } = command.data;
  if (state.definition !== null && sameDefinition(state.definition, definition)) return [];
  return [
    {
      type: 'SourceDeclared',
      data: { source, schemaVersion: state.schemaVersion + 1, definition, actor: command.metadata.actor, declaredAt: command.metadata.at },
    },
  ];
}

function recordDatasetVersion(command: RecordDatasetVersion, state: DataSourceState): DataSourceEvent[] {
  const { candidate } = command.data;
  if (state.definition === null) throw new NotFoundError(`unknown source "${candidate.source}"`, { source: candidate.source });
  const existing = state.versions[candidate.versionId];
  const accepted = !rejects(candidate.report);
  // The same data again: the version exists. Accepted stays accepted; a rejected candidate is
  // recorded again only if it now passes.
  if (existing && (existing.status === 'CREATED' || !accepted)) return [];
  if (candidate.schemaVersion !== state.schemaVersion) {
    throw new ConcurrencyError(
      `the schema of source "${candidate.source}" changed to version ${state.schemaVersion} while the data was validated against version ${candidate.schemaVersion}; send the data again`,
      { source: candidate.source, expected: candidate.schemaVersion, actual: state.schemaVersion },
    );
  }
  if (candidate.previousVersionId !== state.latestVersionId) {
    throw new ConcurrencyError(
      `another version of source "${candidate.source}" was accepted while this one was validated; it must be compared with the new one`,
      { source: candidate.source, expected: candidate.previousVersionId, actual: state.latestVersionId },
    );
  }
  const data: DatasetVersionRecord = { ...candidate, actor: command.metadata.actor, recordedAt: command.metadata.at };
  return [accepted ? { type: 'DatasetVersionCreated', data } : { type: 'DatasetVersionRejected', data }];
}

function configureStream(command: ConfigureStream, state: DataSourceState): DataSourceEvent[] {
  const { source, stream } = command.data;
  if (state.definition === null) throw new NotFoundError(`unknown source "${source}": declare it first with PUT /v1/sources/${source}`, { source });
  const current = state.stream;
  if (current && current.topic === stream.topic && current.maxRows === stream.maxRows && current.maxIntervalMs === stream.maxIntervalMs) return [];
  return [{ type: 'SourceStreamConfigured', data: { source, stream, actor: command.metadata.actor, configuredAt: command.metadata.at } }];
}

function stopStream(command: StopStream, state: DataSourceState): DataSourceEvent[] {
  const { source } = command.data;
  if (state.definition === null) throw new NotFoundError(`unknown source "${source}"`, { source });
  if (state.stream === null) throw new NotFoundError(`source "${source}" is not fed from a stream`, { source });
  return [{ type: 'SourceStreamStopped', data: { source, topic: state.stream.topic, actor: command.metadata.actor, stoppedAt: command.metadata.at } }];
}

export const dataSourceDecider: Decider<DataSourceCommand, DataSourceState, DataSourceEvent> = {
  decide: decideDataSource,
  evolve: evolveDataSource,
  initialState: () => initialDataSourceState,
};
