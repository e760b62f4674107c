// One event stream per definition (`entity-<name>`, `feature_view-<name>`,
// `feature_service-<name>`): every applied change is a new version, and old versions stay
// readable because nothing is ever overwritten. The decider is pure: time and actor arrive in the
// command.
import type { Decider } from '@loopline/eventsourcing';
import { IllegalStateError } from '@loopline/errors';
import type { ResolvedFeature } from './catalog';
import type { EntityDefinition, FeatureServiceDefinition, FeatureViewDefinition } from './definitions';

export type DefinitionKind = 'entity' | 'feature_view' | 'feature_service';

interface AppliedData<D> {
  readonly name: string;
  readonly version: number;
  readonly previousVersion: number;
  readonly hash: string;
  readonly definition: D;
  readonly actor: string;
  readonly appliedAt: string;
}

export type DefinitionEvent =
  | { readonly type: 'EntityApplied'; readonly data: AppliedData<EntityDefinition> }
  | { readonly type: 'FeatureViewApplied'; readonly data: AppliedData<FeatureViewDefinition> }
  | { readonly type: 'FeatureServiceApplied'; readonly data: AppliedData<FeatureServiceDefinition> & { readonly resolved: readonly ResolvedFeature[] } };

export type ApplyDefinition =
  | { readonly kind: 'entity'; readonly definition: EntityDefinition; readonly hash: string; readonly actor: string; readonly time: string }
  | { readonly kind: 'feature_view'; readonly definition: FeatureViewDefinition; readonly hash: string; readonly actor: string; readonly time: string }
  | {
      readonly kind: 'feature_service';
      readonly definition: FeatureServiceDefinition;
      readonly resolved: readonly ResolvedFeature[];
      readonly hash: string;
      readonly actor: string;
      readonly time: string;
    };

export interface DefinitionState {
  readonly version: number;
  readonly hash: string | null;
  /** Entities only: join keys never change once applied (every view keyed by the entity would break). */
  readonly joinKeys: readonly string[] | null;
}

export function streamIdOf(kind: DefinitionKind, name: string): string {
  return `${kind}-${name}`;
}

export const definitionDecider: Decider<ApplyDefinition, DefinitionState, DefinitionEvent> = {
  initialState: () => ({ version: 0, hash: null, joinKeys: null }),

  decide(command, state) {
    if (command.hash === state.hash) return [];
    const base = {
      name: command.definition.name,
      version: state.version + 1,
      previousVersion: state.version,
      hash: command.hash,
      actor: command.actor,
      appliedAt: command.time,
    };
    switch (command.kind) {
      case 'entity': {
        if (state.joinKeys && state.joinKeys.join(',') !== command.definition.joinKeys.join(',')) {
          throw new IllegalStateError(
            `entity "${command.definition.name}" has join keys [${state.joinKeys.join(', ')}]; they cannot change (define a new entity instead)`,
            { entity: command.definition.name, joinKeys: state.joinKeys, requested: command.definition.joinKeys },
          );
        }
        return [{ type: 'EntityApplied', data: { ...base, definition: command.definition } }];
      }
      case 'feature_view':
        return [{ type: 'FeatureViewApplied', data: { ...base, definition: command.definition } }];
      case 'feature_service':
        return [{ type: 'FeatureServiceApplied', data: { ...base, definition: command.definition, resolved: command.resolved } }];
      default: {
        const unreachable: never = command;
        throw new Error(`unknown command ${JSON.stringify(unreachable)}`);
      }
    }
  },

  evolve(_state, event) {
    switch (event.type) {
      case 'EntityApplied':
        return { version: event.data.version, hash: event.data.hash, joinKeys: event.data.definition.joinKeys };
      case 'FeatureViewApplied':
      case 'FeatureServiceApplied':
        return { version: event.data.version, hash: event.data.hash, joinKeys: null };
      default: {
        const unreachable: never = event;
        throw new Error(`unknown event ${JSON.stringify(unreachable)}`);
      }
    }
  },
};
