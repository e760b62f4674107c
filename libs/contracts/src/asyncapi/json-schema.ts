// JSON Schema of the proto3 JSON mapping of messages, which is what travels on Kafka (see
// cloudevents.ts): int64 as decimal strings, enums as value names, Timestamp as RFC 3339 strings,
// Struct as objects, maps as objects, repeated fields as arrays, field names in lowerCamelCase.
// Schemas document what `toJson` emits; `fromJson` also accepts the original snake_case names.
import { ScalarType, type DescEnum, type DescField, type DescMessage, type JsonObject } from '@bufbuild/protobuf';

/** Where a message's or enum's schema lives in the AsyncAPI document. */
export function componentSchemaRef(typeName: string): string {
  return `#/components/schemas/${typeName}`;
}

/**
 * The component schemas for `roots` and every message and enum they reach, keyed by full proto
 * name and sorted by it. Well-known types are inlined, as their JSON forms are plain values.
 * `docs` holds the proto comments by full name (see codegen/loopline-plugin.ts).
 */
export function componentSchemasFor(
  roots: readonly DescMessage[],
  docs: Readonly<Record<string, string>>,
): ReadonlyMap<string, JsonObject> {
  const schemas = new Map<string, JsonObject>();
  const pending: (DescMessage | DescEnum)[] = [...roots];
  const refer = (desc: DescMessage | DescEnum): JsonObject => {
    pending.push(desc);
    return { $ref: componentSchemaRef(desc.typeName) };
  };
  for (let desc = pending.shift(); desc !== undefined; desc = pending.shift()) {
    if (schemas.has(desc.typeName)) continue;
    schemas.set(desc.typeName, desc.kind === 'message' ? messageSchema(desc, docs, refer) : enumSchema(desc, docs));
  }
  return new Map([...schemas].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

type Refer = (desc: DescMessage | DescEnum) => JsonObject;

function messageSchema(message: DescMessage, docs: Readonly<Record<string, string>>, refer: Refer): JsonObject {
  const properties: JsonObject = {};
  for (const field of message.fields) {
    const oneofNote =
      field.oneof === undefined
        ? ''
        : ` At most one of ${field.oneof.fields.map((member) => `\`${member.jsonName}\``).join(', ')} is set (oneof \`${field.oneof.name}\`).`;
    properties[field.jsonName] = describe(fieldSchema(field, refer), (docs[`${message.typeName}.${field.name}`] ?? '') + oneofNote);
  }
  // A oneof allows no two of its members at once.
  const oneofRules = message.oneofs.flatMap((oneof) =>
    oneof.fields.flatMap((a, i) => oneof.fields.slice(i + 1).map((b) => ({ not: { required: [a.jsonName, b.jsonName] } }))),
  );
  return {
    type: 'object',
    title: message.name,
    ...optionalDescription(docs[message.typeName]),
    properties,
    // `fromJson` rejects unknown fields, and so does the schema.
    additionalProperties: false,
    ...(oneofRules.length === 0 ? {} : { allOf: oneofRules }),
  };
}

function enumSchema(enumType: DescEnum, docs: Readonly<Record<string, string>>): JsonObject {
  const valueDocs = enumType.values.map((value) => {
    const doc = docs[`${enumType.typeName}.${value.name}`];
    return `- \`${value.name}\`${doc === undefined ? '' : `: ${doc.replace(/\n/g, ' ')}`}`;
  });
  const description = [docs[enumType.typeName], valueDocs.join('\n')].filter((part) => part !== undefined).join('\n\n');
  return {
    type: 'string',
    title: enumType.name,
    description,
    enum: enumType.values.map((value) => value.name),
  };
}

function fieldSchema(field: DescField, refer: Refer): JsonObject {
  switch (field.fieldKind) {
    case 'scalar':
      return scalarSchema(field.scalar);
    case 'enum':
      return enumRef(field.enum, refer);
    case 'message':
      return messageRef(field.message, refer);
    case 'list': {
      const items =
        field.listKind === 'scalar'
          ? scalarSchema(field.scalar)
          : field.listKind === 'enum'
            ? enumRef(field.enum, refer)
            : messageRef(field.message, refer);
      return { type: 'array', items };
    }
    case 'map': {
      const values =
        field.mapKind === 'scalar'
          ? scalarSchema(field.scalar)
          : field.mapKind === 'enum'
            ? enumRef(field.enum, refer)
            : messageRef(field.message, refer);
      return { type: 'object', ...mapKeyConstraint(field.mapKey), additionalProperties: values };
    }
    default: {
      const unexpected: never = field;
      throw new Error(`unexpected field kind in ${String(unexpected)}`);
    }
  }
}

function enumRef(enumType: DescEnum, refer: Refer): JsonObject {
  // NullValue is the one enum whose JSON form is not its value name.
  return enumType.typeName === 'google.protobuf.NullValue' ? { type: 'null' } : refer(enumType);
}

function messageRef(message: DescMessage, refer: Refer): JsonObject {
  if (!message.typeName.startsWith('google.protobuf.')) return refer(message);
  const wellKnown = wellKnownSchema(message);
  if (wellKnown === undefined) {
    throw new Error(`${message.typeName} has no JSON Schema yet: add its proto3 JSON form to asyncapi/json-schema.ts`);
  }
  return wellKnown;
}

// The well-known types whose proto3 JSON form is special. Others fail loudly rather than being
// described wrongly as ordinary objects.
function wellKnownSchema(message: DescMessage): JsonObject | undefined {
  switch (message.typeName) {
    case 'google.protobuf.Timestamp':
      return { type: 'string', format: 'date-time' };
    case 'google.protobuf.Duration':
      return { type: 'string', pattern: '^-?[0-9]+(\\.[0-9]{1,9})?s$' };
    case 'google.protobuf.Struct':
      return { type: 'object', additionalProperties: true };
    case 'google.protobuf.Value':
      // Any JSON value.
      return {};
    case 'google.protobuf.ListValue':
      return { type: 'array' };
    case 'google.protobuf.DoubleValue':
    case 'google.protobuf.FloatValue':
    case 'google.protobuf.Int64Value':
    case 'google.protobuf.UInt64Value':
    case 'google.protobuf.Int32Value':
    case 'google.protobuf.UInt32Value':
    case 'google.protobuf.BoolValue':
    case 'google.protobuf.StringValue':
    case 'google.protobuf.BytesValue': {
      // Wrappers are written as their bare value.
      const value = message.fields[0];
      return value?.fieldKind === 'scalar' ? scalarSchema(value.scalar) : undefined;
    }
    default:
      return undefined;
  }
}

function scalarSchema(scalar: ScalarType): JsonObject {
  switch (scalar) {
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      // Non-finite numbers are written as strings.
      return { oneOf: [{ type: 'number' }, { type: 'string', enum: ['NaN', 'Infinity', '-Infinity'] }] };
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return { type: 'integer', format: 'int32' };
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return { type: 'integer', minimum: 0, maximum: 4294967295 };
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      // 64-bit integers are decimal strings: JSON numbers lose precision past 2^53.
      return { type: 'string', format: 'int64', pattern: '^-?[0-9]+$' };
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return { type: 'string', format: 'uint64', pattern: '^[0-9]+$' };
    case ScalarType.BOOL:
      return { type: 'boolean' };
    case ScalarType.STRING:
      return { type: 'string' };
    case ScalarType.BYTES:
      return { type: 'string', contentEncoding: 'base64' };
    default: {
      const unexpected: never = scalar;
      throw new Error(`unexpected scalar type ${String(unexpected)}`);
    }
  }
}

function mapKeyConstraint(key: ScalarType): JsonObject {
  switch (key) {
    case ScalarType.STRING:
      return {};
    case ScalarType.BOOL:
      return { propertyNames: { enum: ['true', 'false'] } };
    default:
      // Integer keys are written as decimal strings.
      return { propertyNames: { pattern: '^-?[0-9]+$' } };
  }
}

// Attaches a description; next to a `$ref` it goes through `allOf`, since JSON Schema ignores
// siblings of `$ref`.
function describe(schema: JsonObject, description: string): JsonObject {
  if (description === '') return schema;
  if ('$ref' in schema) return { description, allOf: [schema] };
  return { ...schema, description };
}

function optionalDescription(description: string | undefined): JsonObject {
  return description === undefined ? {} : { description };
}
