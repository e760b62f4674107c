// The list of registered models (`GET /v1/models`): one document per model with what a listing
// shows. Folded asynchronously from the event store by a ProjectionRunner, so it trails the
// streams by a poll interval; single-model reads fold the stream instead and are always current.
import type { Projection, RecordedEvent } from '@loopline/eventsourcing';
import { registeredModelEventTypes, type RegisteredModelEvent } from '../domain/registered-model/registered-model';

export interface ModelSummary {
  readonly name: string;
  readonly description: string;
  readonly owner: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly latestVersion: number;
  readonly aliases: Readonly<Record<string, number>>;
  readonly createdAt: string;
}

const known = new Set<string>(registeredModelEventTypes);

export function evolveModelSummary(summary: ModelSummary | null, event: RegisteredModelEvent): ModelSummary | null {
  if (event.type === 'RegisteredModelCreated') {
    const { data } = event;
    return { name: data.modelName, description: data.description, owner: data.owner, tags: data.tags, latestVersion: 0, aliases: {}, createdAt: data.createdAt };
  }
  if (summary === null) return null;
  switch (event.type) {
    case 'ModelVersionRegistered':
      return { ...summary, latestVersion: Math.max(summary.latestVersion, event.data.version) };
    case 'ModelVersionAliasSet':
      return { ...summary, aliases: { ...summary.aliases, [event.data.alias]: event.data.version } };
    case 'ModelVersionAliasRemoved': {
      const { [event.data.alias]: _removed, ...aliases } = summary.aliases;
      return { ...summary, aliases };
    }
    case 'ModelVersionArchived':
    case 'PromotionPolicySet':
    case 'PromotionGateEvaluated':
      return summary;
    default: {
      const unreachable: never = event;
      throw new Error(`unknown event ${JSON.stringify(unreachable)}`);
    }
  }
}

export const modelSummariesProjection: Projection<ModelSummary> = {
  name: 'registry_model_summaries',
  version: 1,
  documentId: (event) => (known.has(event.type) ? (event as RecordedEvent<RegisteredModelEvent>).data.modelName : undefined),
  evolve: (summary, event) => (known.has(event.type) ? evolveModelSummary(summary, event as RecordedEvent<RegisteredModelEvent>) : summary),
};
