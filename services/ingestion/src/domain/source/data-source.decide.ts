// Commands on a data source, decided against its state. Pure: the actor and the time arrive in
// the command; the candidate's validation happened before (it needs I/O) and arrives with the
// basis it was computed on, which `decide` checks is still current.
import type { Decider } from '@loopline/eventsourcing';
import { ConcurrencyError, NotFoundError } from '@loopline/errors';
import { rejects } from '../validation/validate-dataset';
import { evolveDataSource, initialDataSourceState, type DataSourceEvent, type DataSourceState, type DatasetVersionRecord } from './data-source';
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

export type DataSourceCommand = DeclareSource | RecordDatasetVersion;

export function decideDataSource(command: DataSourceCommand, state: DataSourceState): DataSourceEvent[] {
  switch (command.type) {
    case 'DeclareSource':
      return declareSource(command, state);
    case 'RecordDatasetVersion':
      return recordDatasetVersion(command, state);
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

export const dataSourceDecider: Decider<DataSourceCommand, DataSourceState, DataSourceEvent> = {
  decide: decideDataSource,
  evolve: evolveDataSource,
  initialState: () => initialDataSourceState,
};
