// The wire shapes of an online lookup's answer, shared by the service's own API (Nest) and the
// online server's worker thread: REST JSON in Feast's shape, and the gRPC
// `GetOnlineFeaturesResponse` as a @grpc/proto-loader object (camelCase, enums by name).
import type { ValueType } from '../domain/definitions/definitions';
import type { EntityValue, FeatureVector, OnlineFeaturesRequest, OnlineFeaturesResponse } from '../application/online-features';

/** The REST body of an online lookup: Feast's shape (values, statuses and event times per feature). */
export function onlineFeaturesJson(response: OnlineFeaturesResponse) {
  // The features of one view share each row's event time: format each distinct time once.
  const iso = new Map<number, string>();
  const isoOf = (ms: number | null) => {
    if (ms === null) return null;
    let text = iso.get(ms);
    if (text === undefined) {
      text = new Date(ms).toISOString();
      iso.set(ms, text);
    }
    return text;
  };
  return {
    metadata: { featureNames: response.featureNames },
    results: response.results.map((vector) => ({ values: vector.values, statuses: vector.statuses, eventTimestamps: vector.eventTimestamps.map(isoOf) })),
  };
}

const statusNames = { PRESENT: 'FIELD_STATUS_PRESENT', NULL_VALUE: 'FIELD_STATUS_NULL_VALUE', NOT_FOUND: 'FIELD_STATUS_NOT_FOUND', OUTSIDE_TTL: 'FIELD_STATUS_OUTSIDE_TTL' } as const;

const valueTypeNames: Record<ValueType, string> = {
  int64: 'FEATURE_VALUE_TYPE_INT64',
  double: 'FEATURE_VALUE_TYPE_DOUBLE',
  string: 'FEATURE_VALUE_TYPE_STRING',
  bool: 'FEATURE_VALUE_TYPE_BOOL',
  timestamp: 'FEATURE_VALUE_TYPE_TIMESTAMP',
};

/** A feature's values as the typed packed list of its type (placeholders where not PRESENT). */
function vectorMessage(vector: FeatureVector, type: ValueType) {
  const count = vector.values.length;
  const statuses = new Array<string>(count);
  const times = new Array<number>(count);
  for (let row = 0; row < count; row += 1) {
    statuses[row] = statusNames[vector.statuses[row]!];
    times[row] = vector.eventTimestamps[row] ?? 0;
  }
  const values = vector.values;
  const base = { valueType: valueTypeNames[type], statuses, eventTimestampsMs: times };
  switch (type) {
    case 'double':
      return { ...base, doubleValues: values.map((value) => (typeof value === 'number' ? value : 0)) };
    case 'int64':
      return { ...base, int64Values: values.map((value) => (typeof value === 'number' ? Math.trunc(value) : 0)) };
    case 'bool':
      return { ...base, boolValues: values.map((value) => value === true) };
    case 'string':
    case 'timestamp':
      return { ...base, stringValues: values.map((value) => (value === null ? '' : String(value))) };
    default: {
      const unreachable: never = type;
      throw new Error(`unknown type ${String(unreachable)}`);
    }
  }
}

/** The gRPC answer: one typed, packed vector per feature. */
export function onlineFeaturesMessage(response: OnlineFeaturesResponse) {
  return { featureNames: response.featureNames, results: response.results.map((vector, index) => vectorMessage(vector, response.featureTypes[index]!)) };
}

/** A `GetOnlineFeaturesRequest` as @grpc/proto-loader delivers it (oneof `kind` named). */
export interface OnlineFeaturesMessage {
  readonly kind?: string;
  readonly featureService?: string;
  readonly features?: { readonly references?: readonly string[] } | null;
  readonly entities?: Readonly<Record<string, { readonly values?: readonly string[] }>>;
}

export function onlineRequestOf(message: OnlineFeaturesMessage): OnlineFeaturesRequest {
  const entities: Record<string, EntityValue[]> = {};
  for (const [key, list] of Object.entries(message.entities ?? {})) entities[key] = [...(list.values ?? [])];
  return {
    featureService: message.kind === 'featureService' ? message.featureService : undefined,
    features: message.kind === 'features' ? (message.features?.references ?? []) : undefined,
    entities,
  };
}
