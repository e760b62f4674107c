// The pipeline aggregate (stream `pipeline-<name>`): its versions. Applying a definition that
// differs from the latest one records a new version; an identical one records nothing, so
// `loopline pipelines apply` can run on every commit.
import { NotFoundError } from '@loopline/errors';
import type { JsonValue } from '../expressions/expression';
import type { PipelineDefinition } from './pipeline-definition';

export type PipelineDefinitionApplied = {
  readonly type: 'PipelineDefinitionApplied';
  readonly data: {
    readonly name: string;
    readonly version: number;
    readonly definitionHash: string;
    readonly definition: PipelineDefinition;
    /** The document as written (JSON form of the YAML), for display and export. */
    readonly document: JsonValue;
    readonly appliedBy: string;
    readonly appliedAt: string;
  };
};

export type PipelineEvent = PipelineDefinitionApplied;

export interface PipelineVersion {
  readonly version: number;
  readonly definitionHash: string;
  readonly definition: PipelineDefinition;
  readonly document: JsonValue;
  readonly appliedBy: string;
  readonly appliedAt: string;
}

export interface PipelineState {
  readonly name: string | null;
  readonly versions: readonly PipelineVersion[];
}

export type ApplyPipeline = {
  readonly type: 'ApplyPipeline';
  readonly data: { readonly definition: PipelineDefinition; readonly definitionHash: string; readonly document: JsonValue };
  readonly metadata: { readonly actor: string; readonly at: string };
};

export function initialState(): PipelineState {
  return { name: null, versions: [] };
}

export function evolve(state: PipelineState, event: PipelineEvent): PipelineState {
  const { data } = event;
  return {
    name: data.name,
    versions: [...state.versions, { version: data.version, definitionHash: data.definitionHash, definition: data.definition, document: data.document, appliedBy: data.appliedBy, appliedAt: data.appliedAt }],
  };
}

export function decide(command: ApplyPipeline, state: PipelineState): PipelineEvent[] {
  const latest = state.versions.at(-1);
  if (latest?.definitionHash === command.data.definitionHash) return [];
  return [
    {
      type: 'PipelineDefinitionApplied',
      data: {
        name: command.data.definition.name,
        version: (latest?.version ?? 0) + 1,
        definitionHash: command.data.definitionHash,
        definition: command.data.definition,
        document: command.data.document,
        appliedBy: command.metadata.actor,
        appliedAt: command.metadata.at,
      },
    },
  ];
}

export const pipelineDecider = { decide, evolve, initialState };

/** A version of the pipeline (the latest when `version` is undefined or 0). */
export function pipelineVersion(state: PipelineState, name: string, version?: number): PipelineVersion {
  const found = version === undefined || version === 0 ? state.versions.at(-1) : state.versions.find((candidate) => candidate.version === version);
  if (found === undefined) {
    throw new NotFoundError(version ? `pipeline "${name}" has no version ${version}` : `no pipeline named "${name}"`, { name, version: version ?? null });
  }
  return found;
}
