// The commands of the registered-model aggregate, one function each, and `decide`. Who and when
// arrive in each command's metadata; nothing here reads a clock or makes an id.
import { IllegalStateError, NotFoundError, ValidationError } from '@loopline/errors';
import { evaluateGate, validatePolicy } from './promotion-gate';
import {
  aliasesOf,
  evolve,
  findVersion,
  initialState,
  type GateEvidence,
  type ModelLineage,
  type ModelSignature,
  type ModelVersion,
  type PromotionPolicy,
  type RegisteredModel,
  type RegisteredModelEvent,
  type RegisteredModelState,
  type StoredBlob,
} from './registered-model';
import {
  assertActor,
  assertAlias,
  assertBlob,
  assertLineage,
  assertMetrics,
  assertModelName,
  assertSignature,
  assertStringMap,
  assertText,
  assertVersionNumber,
  limits,
} from './rules';

/** Who and when: filled by the application layer, from the request and its clock. */
export interface CommandMeta {
  readonly actor: string;
  /** ISO-8601 time at which the command was accepted. */
  readonly at: string;
}

export type CreateRegisteredModel = {
  readonly type: 'CreateRegisteredModel';
  readonly data: {
    readonly name: string;
    readonly description: string;
    /** Empty: the actor owns the model. */
    readonly owner: string;
    readonly tags: Readonly<Record<string, string>>;
  };
  readonly metadata: CommandMeta;
};

export type RegisterModelVersion = {
  readonly type: 'RegisterModelVersion';
  readonly data: {
    readonly modelName: string;
    /** Already stored and validated by the application layer: content-addressed, signature read from the graph. */
    readonly artifact: StoredBlob;
    readonly signature: ModelSignature;
    readonly metrics: Readonly<Record<string, number>>;
    readonly params: Readonly<Record<string, string>>;
    readonly tags: Readonly<Record<string, string>>;
    readonly description: string;
    readonly lineage: ModelLineage;
    readonly referenceProfile: StoredBlob | null;
    readonly idempotencyKey: string | null;
  };
  readonly metadata: CommandMeta;
};

export type SetModelVersionAlias = {
  readonly type: 'SetModelVersionAlias';
  readonly data: { readonly modelName: string; readonly alias: string; readonly version: number; readonly reason: string };
  readonly metadata: CommandMeta;
};

export type RemoveModelVersionAlias = {
  readonly type: 'RemoveModelVersionAlias';
  readonly data: { readonly modelName: string; readonly alias: string; readonly reason: string };
  readonly metadata: CommandMeta;
};

export type ArchiveModelVersion = {
  readonly type: 'ArchiveModelVersion';
  readonly data: { readonly modelName: string; readonly version: number; readonly reason: string };
  readonly metadata: CommandMeta;
};

export type SetPromotionPolicy = {
  readonly type: 'SetPromotionPolicy';
  readonly data: { readonly modelName: string; readonly policy: PromotionPolicy };
  readonly metadata: CommandMeta;
};

export type PromoteModelVersion = {
  readonly type: 'PromoteModelVersion';
  readonly data: { readonly modelName: string; readonly version: number; readonly alias: string; readonly reason: string };
  readonly metadata: CommandMeta;
};

export type RegisteredModelCommand =
  | CreateRegisteredModel
  | RegisterModelVersion
  | SetModelVersionAlias
  | RemoveModelVersionAlias
  | ArchiveModelVersion
  | SetPromotionPolicy
  | PromoteModelVersion;

export function createRegisteredModel(command: CreateRegisteredModel, state: RegisteredModelState): RegisteredModelEvent[] {
  const { data, metadata } = command;
  assertModelName(data.name);
  if (state.status === 'registered') throw new IllegalStateError(`model "${data.name}" already exists`, { name: data.name });
  assertActor(metadata.actor);
  assertText('description', data.description, limits.descriptionChars);
  assertText('owner', data.owner, limits.actorChars);
  assertStringMap('tags', data.tags);
  return [
    {
      type: 'RegisteredModelCreated',
      data: {
        modelName: data.name,
        description: data.description,
        owner: data.owner === '' ? metadata.actor : data.owner,
        tags: data.tags,
        actor: metadata.actor,
        createdAt: metadata.at,
      },
    },
  ];
}

export function registerModelVersion(command: RegisterModelVersion, state: RegisteredModelState): RegisteredModelEvent[] {
  const { data, metadata } = command;
  const model = existingModel(state, data.modelName);
  // A retry of a registration that already happened: nothing new (the caller reads the version back).
  if (data.idempotencyKey !== null && model.registrationKeys[data.idempotencyKey] !== undefined) return [];
  assertActor(metadata.actor);
  if (data.idempotencyKey !== null) assertText('idempotencyKey', data.idempotencyKey, 200);
  assertBlob('artifact', data.artifact);
  if (data.referenceProfile !== null) assertBlob('referenceProfile', data.referenceProfile);
  assertSignature(data.signature);
  assertMetrics(data.metrics);
  assertStringMap('params', data.params);
  assertStringMap('tags', data.tags);
  assertText('description', data.description, limits.descriptionChars);
  assertLineage(data.lineage);
  return [
    {
      type: 'ModelVersionRegistered',
      data: {
        modelName: model.name,
        version: model.versions.length + 1,
        artifact: data.artifact,
        signature: data.signature,
        metrics: data.metrics,
        params: data.params,
        tags: data.tags,
        description: data.description,
        lineage: data.lineage,
        referenceProfile: data.referenceProfile,
        idempotencyKey: data.idempotencyKey,
        actor: metadata.actor,
        registeredAt: metadata.at,
      },
    },
  ];
}

export function setModelVersionAlias(command: SetModelVersionAlias, state: RegisteredModelState): RegisteredModelEvent[] {
  const { data, metadata } = command;
  const model = existingModel(state, data.modelName);
  assertAlias(data.alias);
  assertActor(metadata.actor);
  assertText('reason', data.reason, limits.reasonChars);
  const version = aliasableVersion(model, data.version, data.alias);
  const previous = model.aliases[data.alias] ?? null;
  if (previous === version.version) return []; // already there: setting it again changes nothing
  return [
    {
      type: 'ModelVersionAliasSet',
      data: {
        modelName: model.name,
        alias: data.alias,
        version: version.version,
        previousVersion: previous,
        actor: metadata.actor,
        reason: data.reason,
        evidence: null,
        setAt: metadata.at,
      },
    },
  ];
}

export function removeModelVersionAlias(command: RemoveModelVersionAlias, state: RegisteredModelState): RegisteredModelEvent[] {
  const { data, metadata } = command;
  const model = existingModel(state, data.modelName);
  assertAlias(data.alias);
  assertActor(metadata.actor);
  assertText('reason', data.reason, limits.reasonChars);
  const version = model.aliases[data.alias];
  if (version === undefined) throw new NotFoundError(`model "${model.name}" has no alias "${data.alias}"`, { name: model.name, alias: data.alias });
  return [
    {
      type: 'ModelVersionAliasRemoved',
      data: { modelName: model.name, alias: data.alias, version, actor: metadata.actor, reason: data.reason, removedAt: metadata.at },
    },
  ];
}

/**
 * Archiving a version that holds aliases is refused rather than removing them silently: an alias
 * is what serving follows, and dropping `champion` as a side effect of housekeeping would stop a
 * model from being served. Move or remove the aliases first (docs/adr/0003).
 */
export function archiveModelVersion(command: ArchiveModelVersion, state: RegisteredModelState): RegisteredModelEvent[] {
  const { data, metadata } = command;
  const model = existingModel(state, data.modelName);
  assertActor(metadata.actor);
  assertText('reason', data.reason, limits.reasonChars);
  const version = existingVersion(model, data.version);
  if (version.status === 'ARCHIVED') return [];
  const aliases = aliasesOf(model, version.version);
  if (aliases.length > 0) {
    throw new IllegalStateError(
      `version ${version.version} of "${model.name}" holds the alias(es) ${aliases.join(', ')}: move or remove them before archiving it`,
      { name: model.name, version: version.version, aliases },
    );
  }
  return [
    {
      type: 'ModelVersionArchived',
      data: { modelName: model.name, version: version.version, actor: metadata.actor, reason: data.reason, archivedAt: metadata.at },
    },
  ];
}

export function setPromotionPolicy(command: SetPromotionPolicy, state: RegisteredModelState): RegisteredModelEvent[] {
  const { data, metadata } = command;
  const model = existingModel(state, data.modelName);
  assertActor(metadata.actor);
  validatePolicy(data.policy);
  if (model.policy !== null && JSON.stringify(model.policy) === JSON.stringify(data.policy)) return [];
  return [{ type: 'PromotionPolicySet', data: { modelName: model.name, policy: data.policy, actor: metadata.actor, setAt: metadata.at } }];
}

/**
 * Promotion through the gate. The evaluation is always recorded; the alias moves only if it
 * passed. A refused promotion is therefore not an error of `decide` (that would record nothing):
 * the application layer reads the evidence and answers 409 / FAILED_PRECONDITION with it.
 */
export function promoteModelVersion(command: PromoteModelVersion, state: RegisteredModelState): RegisteredModelEvent[] {
  const { data, metadata } = command;
  const model = existingModel(state, data.modelName);
  assertActor(metadata.actor);
  assertText('reason', data.reason, limits.reasonChars);
  const evidence = gateEvidence(model, data.version, data.alias);
  const evaluated: RegisteredModelEvent = {
    type: 'PromotionGateEvaluated',
    data: { modelName: model.name, version: data.version, alias: data.alias, evidence, actor: metadata.actor, evaluatedAt: metadata.at },
  };
  if (!evidence.passed) return [evaluated];
  const reason = data.reason === '' ? `passed promotion policy ${evidence.policyName}` : data.reason;
  return [
    evaluated,
    {
      type: 'ModelVersionAliasSet',
      data: {
        modelName: model.name,
        alias: data.alias,
        version: data.version,
        previousVersion: model.aliases[data.alias] ?? null,
        actor: metadata.actor,
        reason,
        evidence,
        setAt: metadata.at,
      },
    },
  ];
}

/**
 * What the gate would say about promoting `version` to `alias` now, without recording anything
 * (the dry run). Refuses exactly what `promoteModelVersion` refuses.
 */
export function gateEvidence(model: RegisteredModel, versionNumber: number, alias: string): GateEvidence {
  assertAlias(alias);
  const candidate = aliasableVersion(model, versionNumber, alias);
  if (model.aliases[alias] === candidate.version) {
    throw new IllegalStateError(`version ${candidate.version} of "${model.name}" already holds "${alias}"`, { name: model.name, version: candidate.version, alias });
  }
  const policy = model.policy;
  if (policy === null) {
    throw new IllegalStateError(
      `model "${model.name}" has no promotion policy: set one (PUT /v1/models/${model.name}/promotion-policy) or move the alias directly`,
      { name: model.name },
    );
  }
  const baselineVersion = model.aliases[policy.baselineAlias];
  const baseline = baselineVersion === undefined ? null : findVersion(model, baselineVersion);
  return evaluateGate(policy, { version: candidate.version, metrics: candidate.metrics }, baseline ? { version: baseline.version, metrics: baseline.metrics } : null);
}

export function decide(command: RegisteredModelCommand, state: RegisteredModelState): RegisteredModelEvent[] {
  switch (command.type) {
    case 'CreateRegisteredModel':
      return createRegisteredModel(command, state);
    case 'RegisterModelVersion':
      return registerModelVersion(command, state);
    case 'SetModelVersionAlias':
      return setModelVersionAlias(command, state);
    case 'RemoveModelVersionAlias':
      return removeModelVersionAlias(command, state);
    case 'ArchiveModelVersion':
      return archiveModelVersion(command, state);
    case 'SetPromotionPolicy':
      return setPromotionPolicy(command, state);
    case 'PromoteModelVersion':
      return promoteModelVersion(command, state);
    default: {
      const unreachable: never = command;
      throw new ValidationError(`unknown command ${JSON.stringify(unreachable)}`);
    }
  }
}

/** The decider of the registered-model aggregate (`{ decide, evolve, initialState }`). */
export const registeredModelDecider = { decide, evolve, initialState };

function existingModel(state: RegisteredModelState, name: string): RegisteredModel {
  if (state.status !== 'registered') throw new NotFoundError(`no registered model named "${name}"`, { name });
  return state;
}

function existingVersion(model: RegisteredModel, versionNumber: number): ModelVersion {
  assertVersionNumber(versionNumber);
  const version = findVersion(model, versionNumber);
  if (!version) throw new NotFoundError(`model "${model.name}" has no version ${versionNumber}`, { name: model.name, version: versionNumber });
  return version;
}

function aliasableVersion(model: RegisteredModel, versionNumber: number, alias: string): ModelVersion {
  const version = existingVersion(model, versionNumber);
  if (version.status === 'ARCHIVED') {
    throw new IllegalStateError(`version ${versionNumber} of "${model.name}" is archived and cannot hold the alias "${alias}"`, {
      name: model.name,
      version: versionNumber,
      alias,
    });
  }
  return version;
}
