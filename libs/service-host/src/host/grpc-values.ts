// google.protobuf.Value and Struct as @grpc/proto-loader hands them over and takes them back
// (camelCase, oneofs: true, so a Value names its set member in `kind`), mapped to and from plain
// JSON-like values. Every gRPC controller that carries free-form data (labels, parameters, feature
// values, predictions) converts through here. Pure, with no grpc-js import, but kept beside the
// other gRPC helpers and imported through `@loopline/service-host/grpc-values`.

/** google.protobuf.Value as proto-loader represents it: one member set, named by `kind`. */
export interface ProtoValue {
  kind?: 'nullValue' | 'numberValue' | 'stringValue' | 'boolValue' | 'structValue' | 'listValue';
  nullValue?: string | number;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: ProtoStruct;
  listValue?: { values?: ProtoValue[] };
}

/** google.protobuf.Struct as proto-loader represents it. */
export interface ProtoStruct {
  fields?: Record<string, ProtoValue>;
}

// A Value built by hand (not decoded by proto-loader) may leave `kind` out; the set member says it.
function kindOf(value: ProtoValue): ProtoValue['kind'] {
  if (value.kind !== undefined) return value.kind;
  if (value.numberValue !== undefined) return 'numberValue';
  if (value.stringValue !== undefined) return 'stringValue';
  if (value.boolValue !== undefined) return 'boolValue';
  if (value.structValue) return 'structValue';
  if (value.listValue) return 'listValue';
  return undefined;
}

/** A Value as plain data: null, number, string, boolean, object or array. A missing Value is null. */
export function fromProtoValue(value: ProtoValue | null | undefined): unknown {
  if (!value) return null;
  const kind = kindOf(value);
  switch (kind) {
    case 'numberValue':
      return value.numberValue;
    case 'stringValue':
      return value.stringValue;
    case 'boolValue':
      return value.boolValue;
    case 'structValue':
      return fromProtoStruct(value.structValue);
    case 'listValue':
      return (value.listValue?.values ?? []).map(fromProtoValue);
    case 'nullValue':
    case undefined:
      return null;
    default: {
      const unknownKind: never = kind;
      return unknownKind;
    }
  }
}

/** A Struct as a plain object; a missing Struct is an empty object. */
export function fromProtoStruct(struct: ProtoStruct | null | undefined): Record<string, unknown> {
  return Object.fromEntries(Object.entries(struct?.fields ?? {}).map(([key, value]) => [key, fromProtoValue(value)]));
}

/**
 * Plain data as a Value. null and undefined become NULL_VALUE, and so do NaN and ±Infinity, which
 * JSON cannot carry either; other non-JSON primitives (bigint, symbol, function) become their string.
 */
export function toProtoValue(value: unknown): ProtoValue {
  if (value === null || value === undefined) return { nullValue: 'NULL_VALUE' };
  if (typeof value === 'number') return Number.isFinite(value) ? { numberValue: value } : { nullValue: 'NULL_VALUE' };
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (Array.isArray(value)) return { listValue: { values: value.map(toProtoValue) } };
  if (typeof value === 'object') return { structValue: toProtoStruct(value) };
  return { stringValue: String(value) };
}

/** A plain object as a Struct; anything that is not a (non-array) object is an empty Struct. */
export function toProtoStruct(object: unknown): { fields: Record<string, ProtoValue> } {
  if (object === null || typeof object !== 'object' || Array.isArray(object)) return { fields: {} };
  return { fields: Object.fromEntries(Object.entries(object).map(([key, value]) => [key, toProtoValue(value)])) };
}
