// The experiment aggregate (`experiment-<name>`): a named group of comparable runs, with a
// description and mutable tags (MLflow's experiment). Runs name their experiment; the runs of an
// experiment are listed through the run-summaries projection.
import { ValidationError } from '@loopline/errors';

export type ExperimentCreated = {
  readonly type: 'ExperimentCreated';
  readonly data: { readonly name: string; readonly description: string; readonly tags: Readonly<Record<string, string>>; readonly actor: string; readonly createdAt: string };
};
export type ExperimentTagSet = { readonly type: 'ExperimentTagSet'; readonly data: { readonly name: string; readonly key: string; readonly value: string } };
export type ExperimentEvent = ExperimentCreated | ExperimentTagSet;
export const experimentEventTypes = ['ExperimentCreated', 'ExperimentTagSet'] as const satisfies readonly ExperimentEvent['type'][];

export interface Experiment {
  readonly status: 'active';
  readonly name: string;
  readonly description: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly createdBy: string;
  readonly createdAt: string;
}
export type ExperimentState = { readonly status: 'absent' } | Experiment;

export type CreateExperiment = {
  readonly type: 'CreateExperiment';
  readonly data: { readonly name: string; readonly description: string; readonly tags: Readonly<Record<string, string>> };
  readonly metadata: { readonly actor: string; readonly at: string };
};
export type SetExperimentTag = { readonly type: 'SetExperimentTag'; readonly data: { readonly key: string; readonly value: string }; readonly metadata: { readonly actor: string; readonly at: string } };
export type ExperimentCommand = CreateExperiment | SetExperimentTag;

export const experimentNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function assertExperimentName(name: string): void {
  if (!experimentNamePattern.test(name)) throw new ValidationError(`experiment name ${JSON.stringify(name)} must match ${experimentNamePattern}`, { field: 'experimentName' });
}

export const experimentDecider = {
  initialState: (): ExperimentState => ({ status: 'absent' }),
  evolve(state: ExperimentState, event: ExperimentEvent): ExperimentState {
    switch (event.type) {
      case 'ExperimentCreated':
        return { status: 'active', name: event.data.name, description: event.data.description, tags: event.data.tags, createdBy: event.data.actor, createdAt: event.data.createdAt };
      case 'ExperimentTagSet':
        return state.status === 'absent' ? state : { ...state, tags: { ...state.tags, [event.data.key]: event.data.value } };
      default: {
        const unreachable: never = event;
        throw new Error(`unknown event ${JSON.stringify(unreachable)}`);
      }
    }
  },
  decide(command: ExperimentCommand, state: ExperimentState): ExperimentEvent[] {
    switch (command.type) {
      case 'CreateExperiment':
        assertExperimentName(command.data.name);
        // Creating an experiment that exists is a no-op: jobs create theirs on first use.
        if (state.status !== 'absent') return [];
        return [{ type: 'ExperimentCreated', data: { ...command.data, actor: command.metadata.actor, createdAt: command.metadata.at } }];
      case 'SetExperimentTag':
        if (state.status === 'absent') throw new ValidationError('no such experiment', { field: 'name' });
        if (state.tags[command.data.key] === command.data.value) return [];
        return [{ type: 'ExperimentTagSet', data: { name: state.name, key: command.data.key, value: command.data.value } }];
      default: {
        const unreachable: never = command;
        throw new Error(`unknown command ${JSON.stringify(unreachable)}`);
      }
    }
  },
};
