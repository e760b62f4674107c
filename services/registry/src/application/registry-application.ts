// The registry's use cases: thin handlers that load a model's stream, decide, and append with the
// expected version (handleCommand retries a bounded number of times when another writer got in
// between), writing the Kafka messages to the outbox in the same transaction.
import { handleCommand, type NewEvent, type OutboxMessage, type RecordedEvent } from '@loopline/eventsourcing';
import { IllegalStateError, NotFoundError, ValidationError } from '@loopline/errors';
import { aliasVersionAt } from '../domain/registered-model/alias-timeline';
import {
  gateEvidence,
  registeredModelDecider,
  type CommandMeta,
  type RegisteredModelCommand,
  type RegisterModelVersion,
} from '../domain/registered-model/registered-model.decide';
import {
  aliasesOf,
  findVersion,
  registeredModelEventTypes,
  type GateEvidence,
  type ModelVersion,
  type PromotionPolicy,
  type RegisteredModel,
  type RegisteredModelEvent,
  type RegisteredModelState,
} from '../domain/registered-model/registered-model';
import { assertAlias, assertModelName, assertVersionNumber } from '../domain/registered-model/rules';
import type { ModelSummary } from '../projections/model-summaries.projection';
import type { Clock, IdGenerator, RegistryEventStore, RequestContext } from './ports';

/** The stream of one registered model: its versions, aliases and policy live together. */
export function modelStreamId(name: string): string {
  return `registered_model-${name}`;
}
export const modelStreamType = 'registered_model';

export interface RegistryStorage {
  /** The event store, once the database is migrated; `UnavailableError` while it is not. */
  events(): Promise<RegistryEventStore>;
  /** Every model summary, by name (the projection behind `GET /v1/models`). */
  modelSummaries(): Promise<readonly ModelSummary[]>;
}

export interface RegistryApplicationDeps {
  readonly storage: RegistryStorage;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** The messages that publish appended events (the transactional outbox). */
  readonly toOutbox: (events: readonly NewEvent<RegisteredModelEvent>[]) => OutboxMessage[];
}

/** A version with the aliases pointing at it, as the APIs show it. */
export type ModelVersionView = ModelVersion & { readonly name: string; readonly aliases: readonly string[] };

export interface AliasMove {
  readonly alias: string;
  readonly version: number;
  readonly previousVersion: number | null;
}

export type RegisterVersionInput = Omit<RegisterModelVersion['data'], 'modelName'>;

const knownEventTypes = new Set<string>(registeredModelEventTypes);

/** Stored events of a model's stream as domain events; a stranger in the stream is a bug, not input. */
function decodeModelEvent(event: RecordedEvent): RecordedEvent<RegisteredModelEvent> | undefined {
  if (!knownEventTypes.has(event.type)) throw new Error(`unknown event type ${event.type} in stream ${event.streamId}`);
  return event as RecordedEvent<RegisteredModelEvent>;
}

export class RegistryApplication {
  constructor(private readonly deps: RegistryApplicationDeps) {}

  // ------------------------------------------------------------------------------------------
  // Commands

  async createModel(
    input: { readonly name: string; readonly description: string; readonly owner: string; readonly tags: Readonly<Record<string, string>> },
    context: RequestContext,
  ): Promise<RegisteredModel> {
    assertModelName(input.name);
    const { state } = await this.execute(input.name, context, (metadata) => ({ type: 'CreateRegisteredModel', data: input, metadata }));
    return registered(state, input.name);
  }

  /**
   * Records a version whose artifact is already validated and stored. With an idempotency key
   * that registered a version before, returns that version and records nothing.
   */
  async registerVersion(name: string, input: RegisterVersionInput, context: RequestContext): Promise<ModelVersionView> {
    assertModelName(name);
    const { state, events } = await this.execute(name, context, (metadata) => ({ type: 'RegisterModelVersion', data: { ...input, modelName: name }, metadata }));
    const model = registered(state, name);
    const first = events[0];
    const version = first?.type === 'ModelVersionRegistered' ? first.data.version : input.idempotencyKey !== null ? model.registrationKeys[input.idempotencyKey] : undefined;
    if (version === undefined) throw new Error('registration decided no version');
    return versionView(model, version);
  }

  async setAlias(name: string, alias: string, version: number, reason: string, context: RequestContext): Promise<AliasMove> {
    assertModelName(name);
    const { events } = await this.execute(name, context, (metadata) => ({ type: 'SetModelVersionAlias', data: { modelName: name, alias, version, reason }, metadata }));
    const set = events.find((event) => event.type === 'ModelVersionAliasSet');
    // No event: the alias pointed at the version already.
    return { alias, version, previousVersion: set?.type === 'ModelVersionAliasSet' ? set.data.previousVersion : version };
  }

  async removeAlias(name: string, alias: string, reason: string, context: RequestContext): Promise<AliasMove> {
    assertModelName(name);
    const { events } = await this.execute(name, context, (metadata) => ({ type: 'RemoveModelVersionAlias', data: { modelName: name, alias, reason }, metadata }));
    const removed = events.find((event) => event.type === 'ModelVersionAliasRemoved');
    return { alias, version: removed?.type === 'ModelVersionAliasRemoved' ? removed.data.version : 0, previousVersion: null };
  }

  async archiveVersion(name: string, version: number, reason: string, context: RequestContext): Promise<ModelVersionView> {
    assertModelName(name);
    const { state } = await this.execute(name, context, (metadata) => ({ type: 'ArchiveModelVersion', data: { modelName: name, version, reason }, metadata }));
    return versionView(registered(state, name), version);
  }

  async setPolicy(name: string, policy: PromotionPolicy, context: RequestContext): Promise<PromotionPolicy> {
    assertModelName(name);
    const { state } = await this.execute(name, context, (metadata) => ({ type: 'SetPromotionPolicy', data: { modelName: name, policy }, metadata }));
    return registered(state, name).policy ?? policy;
  }

  /**
   * Promotes through the gate. The evaluation is recorded either way; a refusal then surfaces as
   * `IllegalStateError` (409 / FAILED_PRECONDITION) whose details carry the evidence.
   */
  async promote(name: string, version: number, alias: string, reason: string, context: RequestContext): Promise<AliasMove & { readonly evidence: GateEvidence }> {
    assertModelName(name);
    const { events } = await this.execute(name, context, (metadata) => ({ type: 'PromoteModelVersion', data: { modelName: name, version, alias, reason }, metadata }));
    const evaluated = events.find((event) => event.type === 'PromotionGateEvaluated');
    const moved = events.find((event) => event.type === 'ModelVersionAliasSet');
    if (evaluated?.type !== 'PromotionGateEvaluated') throw new Error('promotion decided no evaluation');
    const { evidence } = evaluated.data;
    if (moved?.type !== 'ModelVersionAliasSet') {
      const failed = evidence.checks.filter((check) => !check.passed);
      throw new IllegalStateError(
        `promotion of version ${version} of "${name}" to "${alias}" refused by policy ${evidence.policyName}: ${failed.map(describeCheck).join('; ')}`,
        { name, version, alias, evidence },
      );
    }
    return { alias, version, previousVersion: moved.data.previousVersion, evidence };
  }

  // ------------------------------------------------------------------------------------------
  // Queries: single-model reads fold the stream, so they always reflect the last write.

  async getModel(name: string): Promise<RegisteredModel> {
    assertModelName(name);
    const store = await this.deps.storage.events();
    const { state } = await store.aggregateStream(modelStreamId(name), registeredModelDecider, { decode: decodeModelEvent });
    return registered(state, name);
  }

  async getVersion(name: string, version: number): Promise<ModelVersionView> {
    assertVersionNumber(version);
    return versionView(await this.getModel(name), version);
  }

  async listVersions(name: string): Promise<ModelVersionView[]> {
    const model = await this.getModel(name);
    return model.versions.map((version) => versionView(model, version.version));
  }

  /** Eventually consistent (a projection); see `RegistryStorage.modelSummaries`. */
  listModels(): Promise<readonly ModelSummary[]> {
    return this.deps.storage.modelSummaries();
  }

  async history(name: string): Promise<readonly RecordedEvent<RegisteredModelEvent>[]> {
    assertModelName(name);
    const store = await this.deps.storage.events();
    const { streamExists, events } = await store.readStream(modelStreamId(name), { decode: decodeModelEvent });
    if (!streamExists) throw new NotFoundError(`no registered model named "${name}"`, { name });
    return events;
  }

  /** The version `alias` points at now, or pointed at at `at`; `NotFoundError` when none. */
  async resolveAlias(name: string, alias: string, at: Date | undefined): Promise<number> {
    assertAlias(alias);
    if (at !== undefined && Number.isNaN(at.getTime())) throw new ValidationError('"at" is not a valid time', { field: 'at' });
    const events = await this.history(name);
    const version = aliasVersionAt(
      events,
      alias,
      at ?? new Date(8.64e15), // the latest representable time: every event counts
    );
    if (version === null) {
      const when = at === undefined ? 'now' : `at ${at.toISOString()}`;
      throw new NotFoundError(`alias "${alias}" of "${name}" pointed at no version ${when}`, { name, alias, at: at?.toISOString() ?? null });
    }
    return version;
  }

  /** The gate's verdict on a promotion, computed now and recorded nowhere (dry run). */
  async evaluatePromotion(name: string, version: number, alias: string): Promise<GateEvidence> {
    assertVersionNumber(version);
    return gateEvidence(await this.getModel(name), version, alias);
  }

  async getPolicy(name: string): Promise<PromotionPolicy> {
    const model = await this.getModel(name);
    if (model.policy === null) throw new NotFoundError(`model "${name}" has no promotion policy`, { name });
    return model.policy;
  }

  // ------------------------------------------------------------------------------------------

  private async execute(name: string, context: RequestContext, build: (metadata: CommandMeta) => RegisteredModelCommand) {
    const store = await this.deps.storage.events();
    const time = this.deps.clock.now();
    const commandId = this.deps.ids.newId();
    const command = build({ actor: context.actor, at: time.toISOString() });
    return handleCommand({
      store,
      decider: registeredModelDecider,
      streamId: modelStreamId(name),
      streamType: modelStreamType,
      command,
      metadata: { commandId, time, actor: context.actor, correlationId: context.correlationId ?? commandId },
      decode: decodeModelEvent,
      outbox: (events) => this.deps.toOutbox(events),
      // Several writers on one model (a training pipeline registering while an operator moves an
      // alias) are normal; a few more attempts than the default keep them from surfacing as 409s.
      retry: { attempts: 5 },
    });
  }
}

function registered(state: RegisteredModelState, name: string): RegisteredModel {
  if (state.status !== 'registered') throw new NotFoundError(`no registered model named "${name}"`, { name });
  return state;
}

export function versionView(model: RegisteredModel, versionNumber: number): ModelVersionView {
  const version = findVersion(model, versionNumber);
  if (!version) throw new NotFoundError(`model "${model.name}" has no version ${versionNumber}`, { name: model.name, version: versionNumber });
  return { ...version, name: model.name, aliases: aliasesOf(model, versionNumber) };
}

function describeCheck(check: GateEvidence['checks'][number]): string {
  const value = check.candidateValue === null ? 'missing' : String(check.candidateValue);
  const limit = check.threshold === null ? 'unresolved' : String(check.threshold);
  return `${check.description} (candidate ${value}, threshold ${limit}${check.baselineValue === null ? '' : `, baseline ${check.baselineValue}`})`;
}
