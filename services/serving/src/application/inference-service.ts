import { NotFoundError, ValidationError } from '@loopline/errors';
import type { Logger } from '@loopline/telemetry';
import { decodeInputs, type InputTensorRequest } from '../domain/tensor/decode-inputs';
import type { ModelSignature, Tensor } from '../domain/tensor/tensor';
import type { Bound, BoundFeature } from '../domain/features/feature-binding';
import type { EntityJoinRequest } from './feature-joiner';
import { routeRequest } from '../domain/traffic/traffic-policy';
import type { Admission } from './admission';
import { challengerAlias, championAlias, type ModelManager } from './model-manager';
import type { ServedVersion } from './served-version';
import { ServingError } from './serving-error';
import type { TrafficPolicies } from './traffic-policies';

/** Which traffic a prediction belongs to (the `TrafficRole` of the contract). */
export type PredictionRole = 'primary' | 'canary' | 'shadow';

/** One prediction, as the prediction log records it. */
export interface PredictionRecord {
  readonly predictionId: string;
  /** The caller's request id; empty when it sent none. */
  readonly requestId: string;
  readonly modelName: string;
  readonly modelVersion: number;
  /** The alias the request addressed; empty when it named a version. */
  readonly alias: string;
  readonly role: PredictionRole;
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[];
  /** The entity the prediction was made for (join key → value); empty when the caller sent the inputs itself. */
  readonly entityKeys: Readonly<Record<string, string>>;
  readonly latencyMs: number;
  readonly predictedAt: Date;
}

/** Where predictions go; must return at once (the response never waits on the log). */
export interface PredictionRecorder {
  record(prediction: PredictionRecord): void;
}

/** An inference request, transport-neutral. */
export interface InferRequest {
  readonly modelName: string;
  /** The version in the path or `model_version`; empty or undefined: the model's champion (and its traffic policy). */
  readonly modelVersion?: string;
  /** The request id, echoed back; empty when none. */
  readonly id?: string;
  readonly inputs: readonly InputTensorRequest[];
  /** Output names the caller wants; empty or undefined: every output. */
  readonly outputs?: readonly string[];
  /** Epoch ms after which the request must not run; the default timeout applies otherwise. */
  readonly deadline?: number;
  readonly isCancelled?: () => boolean;
  /** When the transport received the request (epoch ms with fraction, `performance.timeOrigin + now()`). */
  readonly receivedAt: number;
}

export interface InferResult {
  readonly modelName: string;
  readonly modelVersion: string;
  /** The request id, or the prediction id when the request had none. */
  readonly id: string;
  readonly predictionId: string;
  readonly outputs: readonly Tensor[];
}

/** A prediction for one entity, its online features joined in (transport-neutral). */
export interface EntityPredictRequest {
  readonly modelName: string;
  /** A version number; empty or undefined: the model's champion (and its traffic policy). */
  readonly modelVersion?: string;
  readonly id?: string;
  /** Join key → value. */
  readonly entities: Readonly<Record<string, string>>;
  /** Request-time features by input name. */
  readonly features: Readonly<Record<string, unknown>>;
  readonly featureService?: string;
  readonly deadline?: number;
  readonly isCancelled?: () => boolean;
  readonly receivedAt: number;
}

export interface EntityPredictResult {
  readonly predictionId: string;
  readonly modelName: string;
  readonly modelVersion: number;
  readonly role: PredictionRole;
  readonly outputs: readonly Tensor[];
  readonly features: Record<string, BoundFeature>;
}

/** Joins a version's online features for an entity (the `FeatureJoiner`), behind a port. */
export interface EntityFeatures {
  join(served: ServedVersion, request: EntityJoinRequest): Promise<Bound>;
}

export interface InferenceServiceOptions {
  readonly manager: ModelManager;
  readonly admission: Admission;
  readonly traffic: TrafficPolicies;
  readonly predictions: PredictionRecorder;
  readonly logger: Logger;
  readonly defaultTimeoutMs: number;
  /** Epoch ms, with fraction. */
  readonly now: () => number;
  /** Uniform in [0, 1): the canary draw. */
  readonly random: () => number;
  readonly newId: () => string;
  readonly onShadowSkipped: (reason: string) => void;
  /** Absent: predict-by-entity answers UNAVAILABLE (no feature store configured). */
  readonly entityFeatures?: EntityFeatures;
}

/** What one request asks, whatever its inputs are. */
interface CallInfo {
  readonly modelName: string;
  readonly modelVersion?: string;
  readonly id?: string;
  readonly outputs?: readonly string[];
  readonly deadline?: number;
  readonly isCancelled?: () => boolean;
  readonly receivedAt: number;
  readonly entityKeys: Readonly<Record<string, string>>;
}

/** A request's inputs made ready for one version: validated tensors, plus what the caller is told about them. */
interface Prepared<Detail> {
  readonly inputs: Tensor[];
  readonly detail: Detail;
}

interface Executed<Detail> {
  readonly target: Target;
  readonly predictionId: string;
  readonly outputs: Tensor[];
  readonly detail: Detail;
}

const noEntity: Readonly<Record<string, string>> = Object.freeze({});

/** A resolved target: the version that answers and how it was addressed. */
interface Target {
  readonly served: ServedVersion;
  readonly alias: string;
  readonly role: PredictionRole;
  readonly shadow: ServedVersion | undefined;
}

/**
 * Runs inference requests: resolves the model version (champion, canary challenger, or the version
 * asked for), validates the inputs against that version's metadata, queues the request on the
 * version's batch scheduler under a deadline, records the prediction, and mirrors it to the
 * challenger off the response path when the model is in shadow mode.
 */
export class InferenceService {
  constructor(private readonly options: InferenceServiceOptions) {}

  async infer(request: InferRequest): Promise<InferResult> {
    const executed = await this.execute(
      { ...request, entityKeys: noEntity },
      (served) => ({ inputs: decodeInputs(served.signature.inputs, request.inputs), detail: undefined }),
      (challenger, championInputs) => {
        // The challenger may have another signature than the champion: validate for it.
        const sameSignature =
          challenger.signature.inputs.length === championInputs.length &&
          challenger.signature.inputs.every((spec, index) => championInputs[index]?.name === spec.name && championInputs[index]?.datatype === spec.datatype);
        return sameSignature ? [...championInputs] : decodeInputs(challenger.signature.inputs, request.inputs);
      },
    );
    return {
      modelName: executed.target.served.modelName,
      modelVersion: String(executed.target.served.version),
      id: request.id ? request.id : executed.predictionId,
      predictionId: executed.predictionId,
      outputs: executed.outputs,
    };
  }

  /**
   * Predicts for one entity: the version is routed exactly as `infer` routes (canary, shadow), its
   * online features are looked up and bound to its inputs with the request's features, and the
   * prediction is logged with the entity keys. A shadow challenger joins its own features.
   */
  async predictByEntity(request: EntityPredictRequest): Promise<EntityPredictResult> {
    const joiner = this.options.entityFeatures;
    if (!joiner) throw new ServingError('NOT_READY', 'predict-by-entity needs the feature store, and none is configured (LOOPLINE_FEATURE_STORE_URL)');
    const deadlineOf = () => Math.min(request.deadline ?? Infinity, this.options.now() + this.options.defaultTimeoutMs);
    const join = (served: ServedVersion) =>
      joiner.join(served, { entities: request.entities, features: request.features, featureService: request.featureService, deadline: deadlineOf() });
    const executed = await this.execute(
      { ...request, entityKeys: request.entities },
      async (served) => {
        const bound = await join(served);
        return { inputs: bound.inputs, detail: bound.features };
      },
      async (challenger) => (await join(challenger)).inputs,
    );
    return {
      predictionId: executed.predictionId,
      modelName: executed.target.served.modelName,
      modelVersion: executed.target.served.version,
      role: executed.target.role,
      outputs: executed.outputs,
      features: executed.detail,
    };
  }

  /** Admission, routing, input preparation for the version that answers, the run, the log, the shadow. */
  private async execute<Detail>(
    call: CallInfo,
    prepare: (served: ServedVersion) => Prepared<Detail> | Promise<Prepared<Detail>>,
    prepareShadow: (challenger: ServedVersion, championInputs: readonly Tensor[]) => Tensor[] | Promise<Tensor[]>,
  ): Promise<Executed<Detail>> {
    const { manager, admission } = this.options;
    if (!manager.ready) throw new ServingError('NOT_READY', 'the server is loading its models and is not ready yet');
    admission.enter();
    try {
      const target = this.resolve(call.modelName, call.modelVersion);
      target.served.acquire();
      try {
        const prepared = await prepare(target.served);
        const outputNames = requestedOutputs(target.served.signature, call.outputs);
        const deadline = Math.min(call.deadline ?? Infinity, this.options.now() + this.options.defaultTimeoutMs);
        const outputs = await target.served.scheduler.submit({ inputs: prepared.inputs, outputNames, deadline, isCancelled: call.isCancelled });
        const predictionId = this.options.newId();
        const now = this.options.now();
        this.options.predictions.record({
          predictionId,
          requestId: call.id ?? '',
          modelName: target.served.modelName,
          modelVersion: target.served.version,
          alias: target.alias,
          role: target.role,
          inputs: prepared.inputs,
          outputs,
          entityKeys: call.entityKeys,
          latencyMs: now - call.receivedAt,
          predictedAt: new Date(now),
        });
        if (target.shadow) this.mirror(target.shadow, call, prepared.inputs, prepareShadow);
        return { target, predictionId, outputs, detail: prepared.detail };
      } finally {
        target.served.releaseReference();
      }
    } finally {
      admission.leave();
    }
  }

  /** The version that answers: the one named, or the champion/challenger by the traffic policy. */
  private resolve(modelName: string, version: string | undefined): Target {
    const { manager } = this.options;
    if (version !== undefined && version !== '') {
      const number = /^\d{1,10}$/.test(version) ? Number(version) : NaN;
      const served = Number.isSafeInteger(number) ? manager.servedVersion(modelName, number) : undefined;
      if (!served) {
        if (!manager.knows(modelName)) throw new NotFoundError(`unknown model '${modelName}'`, { model: modelName });
        const loaded = manager.loadedVersions(modelName);
        throw new NotFoundError(`model '${modelName}' has no version '${version}' served here (served: ${loaded.length ? loaded.join(', ') : 'none'})`, {
          model: modelName,
          version,
        });
      }
      return { served, alias: '', role: 'primary', shadow: undefined };
    }
    const champion = manager.servedUnder(modelName, championAlias);
    if (!champion) throw this.notServed(modelName);
    const challenger = manager.servedUnder(modelName, challengerAlias);
    const usable = challenger !== undefined && challenger !== champion;
    const route = routeRequest(this.options.traffic.of(modelName), usable, this.options.random());
    if (route.answeredBy === 'challenger' && challenger) return { served: challenger, alias: challengerAlias, role: 'canary', shadow: undefined };
    return { served: champion, alias: championAlias, role: 'primary', shadow: route.shadowedByChallenger ? challenger : undefined };
  }

  private notServed(modelName: string): Error {
    const { manager } = this.options;
    if (manager.isLoading(modelName, championAlias)) return new ServingError('NOT_READY', `model '${modelName}' is loading its champion`);
    if (!manager.knows(modelName)) return new NotFoundError(`unknown model '${modelName}'`, { model: modelName });
    const failure = manager.failureOf(modelName, championAlias);
    return new NotFoundError(`model '${modelName}' has no champion served here${failure ? ` (its load failed: ${failure})` : ''}`, { model: modelName });
  }

  /**
   * Shadow traffic: the challenger computes the same request after the response has gone, within
   * the same admission bound (skipped, never queued, when the server is full); its outputs are
   * logged with role `shadow` and never returned.
   */
  private mirror(
    challenger: ServedVersion,
    call: CallInfo,
    championInputs: readonly Tensor[],
    prepareShadow: (challenger: ServedVersion, championInputs: readonly Tensor[]) => Tensor[] | Promise<Tensor[]>,
  ): void {
    challenger.acquire();
    setImmediate(() => {
      void this.runShadow(challenger, call, championInputs, prepareShadow).finally(() => challenger.releaseReference());
    });
  }

  private async runShadow(
    challenger: ServedVersion,
    call: CallInfo,
    championInputs: readonly Tensor[],
    prepareShadow: (challenger: ServedVersion, championInputs: readonly Tensor[]) => Tensor[] | Promise<Tensor[]>,
  ): Promise<void> {
    const { admission } = this.options;
    if (!admission.tryEnter()) {
      this.options.onShadowSkipped('overloaded');
      return;
    }
    const started = this.options.now();
    try {
      const inputs = await prepareShadow(challenger, championInputs);
      const outputNames = challenger.signature.outputs.map((output) => output.name);
      const outputs = await challenger.scheduler.submit({ inputs, outputNames, deadline: started + this.options.defaultTimeoutMs });
      const now = this.options.now();
      this.options.predictions.record({
        predictionId: this.options.newId(),
        requestId: call.id ?? '',
        modelName: challenger.modelName,
        modelVersion: challenger.version,
        alias: challengerAlias,
        role: 'shadow',
        inputs,
        outputs,
        entityKeys: call.entityKeys,
        latencyMs: now - started,
        predictedAt: new Date(now),
      });
    } catch (error) {
      this.options.onShadowSkipped(error instanceof ValidationError ? 'invalid-for-challenger' : 'failed');
      this.options.logger.debug({ err: error, model: challenger.modelName, version: challenger.version }, 'shadow inference did not complete');
    } finally {
      admission.leave();
    }
  }
}

/** The outputs asked for, checked against the model's; all of them when none are named. */
function requestedOutputs(signature: ModelSignature, requested: readonly string[] | undefined): string[] {
  const available = signature.outputs.map((output) => output.name);
  if (!requested || requested.length === 0) return available;
  const seen = new Set<string>();
  for (const name of requested) {
    if (seen.has(name)) throw new ValidationError(`output '${name}' is requested more than once`, { output: name });
    if (!available.includes(name)) {
      throw new ValidationError(`unknown output '${name}': the model's outputs are ${available.map((n) => `'${n}'`).join(', ')}`, { output: name, expected: available });
    }
    seen.add(name);
  }
  return [...requested];
}
