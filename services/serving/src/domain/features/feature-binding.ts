import { ValidationError } from '@loopline/errors';
import { decodeInputs, type InputTensorRequest } from '../tensor/decode-inputs';
import { elementCount } from '../tensor/datatype';
import type { Tensor, TensorSpec } from '../tensor/tensor';

/**
 * Predict-by-entity, the pure part: which online features a model version reads, how their names
 * become model input names, and how the values found (online, in the request, in the entity keys)
 * become the model's input tensors.
 *
 * Names: the feature store names a feature `view:feature` online and `view__feature` as a training
 * set column; models take one input per training column, named after it. So an online feature
 * binds the input named like its training column — the very name the model was trained on (no
 * training/serving skew in naming).
 */

/** Where a value bound to a model input came from (the `status` of the REST answer). */
export type BoundStatus = 'present' | 'missing' | 'outside_ttl' | 'request';

/** The status of one online value, as the feature store reports it. */
export type OnlineStatus = 'present' | 'null_value' | 'not_found' | 'outside_ttl';

export type ScalarValue = number | string | boolean;

/** One feature read from the online store for one entity. */
export interface OnlineValue {
  /** `view:feature`. */
  readonly name: string;
  /** Null unless the status is `present`. */
  readonly value: ScalarValue | null;
  readonly status: OnlineStatus;
}

/** What a model version reads from the feature store, and under which input names. */
export interface FeatureLookup {
  /** What is asked of the feature store: a feature service, or feature references (pinned `view@v:feature`). */
  readonly query: { readonly featureService: string } | { readonly references: readonly string[] } | null;
  /** Online name (`view:feature`) → input name, where it differs from the training-set rule. */
  readonly columns: ReadonlyMap<string, string>;
  /** Where the lookup came from, for messages: `request`, `tag loopline.feature_service`, `training set <id>`, `none`. */
  readonly origin: string;
}

/** The training-set column of an online feature: `view:feature` → `view__feature` (the feature store's rule). */
export function trainingColumnOf(onlineName: string): string {
  const colon = onlineName.indexOf(':');
  return colon < 0 ? onlineName : `${onlineName.slice(0, colon)}__${onlineName.slice(colon + 1)}`;
}

export interface BoundFeature {
  readonly value: ScalarValue | readonly ScalarValue[] | null;
  readonly status: BoundStatus;
}

export interface BindingInput {
  readonly specs: readonly TensorSpec[];
  readonly lookup: FeatureLookup;
  readonly online: readonly OnlineValue[];
  /** Entity join keys → value; they bind inputs of the same name (training sets keep entity columns). */
  readonly entities: Readonly<Record<string, string>>;
  /** Request-time features by input name; they win over online values and entity keys. */
  readonly requestFeatures: Readonly<Record<string, unknown>>;
}

export interface Bound {
  /** Validated tensors, one row, in the model's input order. */
  readonly inputs: Tensor[];
  /** Every model input: the value it received and where it came from. */
  readonly features: Record<string, BoundFeature>;
}

const floatTypes = new Set(['FP16', 'FP32', 'FP64']);

/**
 * Binds one entity's values to every input of the model, one row each. Precedence: the request's
 * `features`, then the online store, then the entity keys. An input with no source is an error
 * naming every such input. A value the online store lacks (missing, null, outside TTL) is bound
 * with the input's missing-value encoding, the one training gave nulls: NaN for a float input (GBDT
 * routes it along its learned missing branch), the empty string for a string input (the encoder's
 * unknown category, NaN again); other datatypes have no missing encoding, so that is an error.
 */
export function bindFeatures(input: BindingInput): Bound {
  const online = new Map<string, OnlineValue>();
  for (const value of input.online) online.set(input.lookup.columns.get(value.name) ?? trainingColumnOf(value.name), value);
  const features: Record<string, BoundFeature> = {};
  const requests: InputTensorRequest[] = [];
  const unbound: string[] = [];
  const noMissingEncoding: string[] = [];
  for (const spec of input.specs) {
    const rowShape = spec.shape.map((dim) => (dim === -1 ? 1 : dim));
    const count = elementCount(rowShape);
    let data: unknown[];
    if (Object.prototype.hasOwnProperty.call(input.requestFeatures, spec.name)) {
      const value = input.requestFeatures[spec.name];
      data = Array.isArray(value) ? value.flat(64) : [value];
      features[spec.name] = { value: reportable(value), status: 'request' };
    } else if (online.has(spec.name)) {
      const found = online.get(spec.name)!;
      const status: BoundStatus = found.status === 'present' ? 'present' : found.status === 'outside_ttl' ? 'outside_ttl' : 'missing';
      features[spec.name] = { value: status === 'present' ? found.value : null, status };
      if (status === 'present' && found.value !== null) data = [found.value];
      else if (floatTypes.has(spec.datatype)) data = [Number.NaN];
      else if (spec.datatype === 'BYTES') data = [''];
      else {
        noMissingEncoding.push(spec.name);
        continue;
      }
    } else if (Object.prototype.hasOwnProperty.call(input.entities, spec.name)) {
      const value = input.entities[spec.name]!;
      // Entity keys travel as text; a numeric input named after one takes its number.
      data = [floatTypes.has(spec.datatype) && value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value];
      features[spec.name] = { value, status: 'request' };
    } else {
      unbound.push(spec.name);
      continue;
    }
    if (count !== 1 && data.length === 1) {
      throw new ValidationError(`input '${spec.name}' takes ${count} values per row (shape ${JSON.stringify(spec.shape)}): send it in "features" as a list of ${count}`, { input: spec.name });
    }
    requests.push({ name: spec.name, datatype: spec.datatype, shape: rowShape, payload: { kind: 'json', data: data.map((value) => coerce(value, spec.datatype)) } });
  }
  if (unbound.length > 0) {
    const sources = input.lookup.query === null ? 'the model reads no online features' : `the online features (${input.lookup.origin})`;
    throw new ValidationError(
      `missing model input${unbound.length > 1 ? 's' : ''} ${unbound.map((name) => `'${name}'`).join(', ')}: not among ${sources}, the entity keys or the request's "features"; send ${unbound.length > 1 ? 'them' : 'it'} in "features"`,
      { missing: unbound },
    );
  }
  if (noMissingEncoding.length > 0) {
    throw new ValidationError(
      `the feature store has no value for input${noMissingEncoding.length > 1 ? 's' : ''} ${noMissingEncoding.map((name) => `'${name}'`).join(', ')}, whose datatype has no missing-value encoding; send ${noMissingEncoding.length > 1 ? 'them' : 'it'} in "features"`,
      { missing: noMissingEncoding },
    );
  }
  return { inputs: decodeInputs(input.specs, requests), features };
}

/** Converts a value to what the input's datatype takes, where the conversion is lossless and unambiguous. */
function coerce(value: unknown, datatype: string): unknown {
  if (value === null || value === undefined) return floatTypes.has(datatype) ? Number.NaN : datatype === 'BYTES' ? '' : value;
  if (floatTypes.has(datatype) && typeof value === 'boolean') return value ? 1 : 0;
  if (datatype === 'BYTES' && (typeof value === 'number' || typeof value === 'boolean')) return String(value);
  if (datatype === 'BOOL' && typeof value === 'number' && (value === 0 || value === 1)) return value === 1;
  return value;
}

function reportable(value: unknown): ScalarValue | ScalarValue[] | null {
  if (Array.isArray(value)) return value.flat(64).map((item) => (typeof item === 'number' || typeof item === 'string' || typeof item === 'boolean' ? item : String(item)));
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value;
  return null;
}
