// The registered-model aggregate: one event stream per model holds the model, all its versions,
// its aliases and its promotion policy, so that version numbers and alias moves are decided
// against one consistent state (docs/adr/0003-model-registry.md).
//
// Events are stored as JSON: every optional value is `null`, never `undefined`, so an event read
// back from the store is deep-equal to the one decided.

/** One named tensor of a signature, in Open Inference Protocol terms. */
export interface TensorSpec {
  readonly name: string;
  /** OIP datatype: `FP32`, `INT64`, `BYTES`, `BOOL`… */
  readonly datatype: string;
  /** Dimensions; -1 for a variable one. */
  readonly shape: readonly number[];
}

export interface ModelSignature {
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
}

/** A content-addressed blob in the artifact store. */
export interface StoredBlob {
  /** Lowercase hex SHA-256 of the bytes: the blob's identity. */
  readonly sha256: string;
  readonly sizeBytes: number;
  readonly uri: string;
}

export interface FeatureViewRef {
  readonly viewName: string;
  readonly viewVersion: number;
}

/** Where a version comes from; empty strings and lists when unknown (e.g. a hand-uploaded model). */
export interface ModelLineage {
  readonly trainingRunId: string;
  readonly pipelineRunId: string;
  readonly experimentName: string;
  readonly trainingSetId: string;
  readonly datasetVersionIds: readonly string[];
  readonly featureViews: readonly FeatureViewRef[];
  readonly trainerName: string;
  readonly trainerVersion: string;
  readonly codeCommit: string;
}

export type MetricDirection = 'HIGHER_IS_BETTER' | 'LOWER_IS_BETTER';

/** Thresholds on one metric; every bound that is not null becomes one check. */
export interface MetricThreshold {
  readonly metric: string;
  readonly direction: MetricDirection;
  readonly lowerBound: number | null;
  readonly upperBound: number | null;
  /** Better than the baseline by at least this (absolute, >= 0). */
  readonly minImprovement: number | null;
  /** Worse than the baseline by at most this (absolute, >= 0). */
  readonly maxDegradation: number | null;
}

export interface PromotionPolicy {
  readonly name: string;
  /** The alias whose holder is the baseline of change thresholds. */
  readonly baselineAlias: string;
  readonly thresholds: readonly MetricThreshold[];
}

export type GateCheckKind = 'LOWER_BOUND' | 'UPPER_BOUND' | 'MIN_IMPROVEMENT' | 'MAX_DEGRADATION';

/** One comparison a gate made, with every number it used. */
export interface GateCheck {
  readonly metric: string;
  readonly kind: GateCheckKind;
  readonly comparator: 'AT_LEAST' | 'AT_MOST';
  /** null when the candidate has no such metric (the check fails). */
  readonly candidateValue: number | null;
  /** The baseline's value, for change checks; null for value checks or when the baseline lacks it. */
  readonly baselineValue: number | null;
  /** The resolved limit (e.g. baseline + 0.01); null when it could not be resolved (the check fails). */
  readonly threshold: number | null;
  readonly passed: boolean;
  /** The rule in words, e.g. `auc >= champion.auc + 0.01`. */
  readonly description: string;
}

/** The verdict of a promotion policy on one candidate. */
export interface GateEvidence {
  readonly policyName: string;
  readonly passed: boolean;
  readonly candidateVersion: number;
  readonly baselineAlias: string;
  /** The version holding the baseline alias, or null when none did (change checks skipped). */
  readonly baselineVersion: number | null;
  readonly checks: readonly GateCheck[];
}

// ---------------------------------------------------------------------------------------------
// Events

export type RegisteredModelCreated = {
  readonly type: 'RegisteredModelCreated';
  readonly data: {
    readonly modelName: string;
    readonly description: string;
    readonly owner: string;
    readonly tags: Readonly<Record<string, string>>;
    readonly actor: string;
    readonly createdAt: string;
  };
};

export type ModelVersionRegistered = {
  readonly type: 'ModelVersionRegistered';
  readonly data: {
    readonly modelName: string;
    readonly version: number;
    readonly artifact: StoredBlob;
    readonly signature: ModelSignature;
    readonly metrics: Readonly<Record<string, number>>;
    readonly params: Readonly<Record<string, string>>;
    readonly tags: Readonly<Record<string, string>>;
    readonly description: string;
    readonly lineage: ModelLineage;
    readonly referenceProfile: StoredBlob | null;
    /** The client's idempotency key, when it sent one: a retry with it registers nothing new. */
    readonly idempotencyKey: string | null;
    readonly actor: string;
    readonly registeredAt: string;
  };
};

export type ModelVersionAliasSet = {
  readonly type: 'ModelVersionAliasSet';
  readonly data: {
    readonly modelName: string;
    readonly alias: string;
    readonly version: number;
    /** null when the alias is new. */
    readonly previousVersion: number | null;
    readonly actor: string;
    readonly reason: string;
    /** The gate's verdict when a promotion moved the alias; null when set directly. */
    readonly evidence: GateEvidence | null;
    readonly setAt: string;
  };
};

export type ModelVersionAliasRemoved = {
  readonly type: 'ModelVersionAliasRemoved';
  readonly data: {
    readonly modelName: string;
    readonly alias: string;
    readonly version: number;
    readonly actor: string;
    readonly reason: string;
    readonly removedAt: string;
  };
};

export type ModelVersionArchived = {
  readonly type: 'ModelVersionArchived';
  readonly data: {
    readonly modelName: string;
    readonly version: number;
    readonly actor: string;
    readonly reason: string;
    readonly archivedAt: string;
  };
};

export type PromotionPolicySet = {
  readonly type: 'PromotionPolicySet';
  readonly data: {
    readonly modelName: string;
    readonly policy: PromotionPolicy;
    readonly actor: string;
    readonly setAt: string;
  };
};

export type PromotionGateEvaluated = {
  readonly type: 'PromotionGateEvaluated';
  readonly data: {
    readonly modelName: string;
    readonly version: number;
    readonly alias: string;
    readonly evidence: GateEvidence;
    readonly actor: string;
    readonly evaluatedAt: string;
  };
};

export type RegisteredModelEvent =
  | RegisteredModelCreated
  | ModelVersionRegistered
  | ModelVersionAliasSet
  | ModelVersionAliasRemoved
  | ModelVersionArchived
  | PromotionPolicySet
  | PromotionGateEvaluated;

export type RegisteredModelEventType = RegisteredModelEvent['type'];

/** Every event type, for decoders that must tell a known event from a stranger. */
export const registeredModelEventTypes: readonly RegisteredModelEventType[] = [
  'RegisteredModelCreated',
  'ModelVersionRegistered',
  'ModelVersionAliasSet',
  'ModelVersionAliasRemoved',
  'ModelVersionArchived',
  'PromotionPolicySet',
  'PromotionGateEvaluated',
];

/** When the event happened, as recorded in it (from the command's metadata). */
export function eventTime(event: RegisteredModelEvent): string {
  switch (event.type) {
    case 'RegisteredModelCreated':
      return event.data.createdAt;
    case 'ModelVersionRegistered':
      return event.data.registeredAt;
    case 'ModelVersionAliasSet':
      return event.data.setAt;
    case 'ModelVersionAliasRemoved':
      return event.data.removedAt;
    case 'ModelVersionArchived':
      return event.data.archivedAt;
    case 'PromotionPolicySet':
      return event.data.setAt;
    case 'PromotionGateEvaluated':
      return event.data.evaluatedAt;
    default: {
      const unreachable: never = event;
      throw new Error(`unknown event ${JSON.stringify(unreachable)}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// State

export type ModelVersionStatus = 'READY' | 'ARCHIVED';

export interface ModelVersion {
  readonly version: number;
  readonly artifact: StoredBlob;
  readonly signature: ModelSignature;
  readonly metrics: Readonly<Record<string, number>>;
  readonly params: Readonly<Record<string, string>>;
  readonly tags: Readonly<Record<string, string>>;
  readonly description: string;
  readonly lineage: ModelLineage;
  readonly referenceProfile: StoredBlob | null;
  readonly registeredBy: string;
  readonly registeredAt: string;
  readonly status: ModelVersionStatus;
}

export interface RegisteredModel {
  readonly status: 'registered';
  readonly name: string;
  readonly description: string;
  readonly owner: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly createdBy: string;
  readonly createdAt: string;
  /** By version number: `versions[n - 1]` is version n. */
  readonly versions: readonly ModelVersion[];
  readonly aliases: Readonly<Record<string, number>>;
  readonly policy: PromotionPolicy | null;
  /** Idempotency keys of registrations, and the version each registered. */
  readonly registrationKeys: Readonly<Record<string, number>>;
}

export type RegisteredModelState = { readonly status: 'absent' } | RegisteredModel;

export function initialState(): RegisteredModelState {
  return { status: 'absent' };
}

export function evolve(state: RegisteredModelState, event: RegisteredModelEvent): RegisteredModelState {
  if (event.type === 'RegisteredModelCreated') {
    const { data } = event;
    return {
      status: 'registered',
      name: data.modelName,
      description: data.description,
      owner: data.owner,
      tags: data.tags,
      createdBy: data.actor,
      createdAt: data.createdAt,
      versions: [],
      aliases: {},
      policy: null,
      registrationKeys: {},
    };
  }
  // Every other event follows the creation; a stream that breaks this is corrupt, not a refusal.
  if (state.status !== 'registered') throw new Error(`${event.type} before RegisteredModelCreated`);
  switch (event.type) {
    case 'ModelVersionRegistered': {
      const { data } = event;
      const version: ModelVersion = {
        version: data.version,
        artifact: data.artifact,
        signature: data.signature,
        metrics: data.metrics,
        params: data.params,
        tags: data.tags,
        description: data.description,
        lineage: data.lineage,
        referenceProfile: data.referenceProfile,
        registeredBy: data.actor,
        registeredAt: data.registeredAt,
        status: 'READY',
      };
      return {
        ...state,
        versions: [...state.versions, version],
        registrationKeys: data.idempotencyKey === null ? state.registrationKeys : { ...state.registrationKeys, [data.idempotencyKey]: data.version },
      };
    }
    case 'ModelVersionAliasSet':
      return { ...state, aliases: { ...state.aliases, [event.data.alias]: event.data.version } };
    case 'ModelVersionAliasRemoved': {
      const { [event.data.alias]: _removed, ...aliases } = state.aliases;
      return { ...state, aliases };
    }
    case 'ModelVersionArchived':
      return {
        ...state,
        versions: state.versions.map((version) => (version.version === event.data.version ? { ...version, status: 'ARCHIVED' } : version)),
      };
    case 'PromotionPolicySet':
      return { ...state, policy: event.data.policy };
    case 'PromotionGateEvaluated':
      // A record of the numbers; the alias moves with the ModelVersionAliasSet that follows a pass.
      return state;
    default: {
      const unreachable: never = event;
      throw new Error(`unknown event ${JSON.stringify(unreachable)}`);
    }
  }
}

/** The version with this number, or undefined. */
export function findVersion(model: RegisteredModel, version: number): ModelVersion | undefined {
  const found = model.versions[version - 1];
  return found?.version === version ? found : undefined;
}

/** The aliases pointing at a version, sorted. */
export function aliasesOf(model: RegisteredModel, version: number): string[] {
  return Object.entries(model.aliases)
    .filter(([, target]) => target === version)
    .map(([alias]) => alias)
    .sort();
}

/** The highest version number, 0 when there is none. */
export function latestVersion(model: RegisteredModel): number {
  return model.versions.length;
}
