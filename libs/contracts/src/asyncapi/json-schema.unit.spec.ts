import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  create,
  createFileRegistry,
  ScalarType,
  toJson,
  type DescField,
  type DescMessage,
  type JsonObject,
  type JsonValue,
} from '@bufbuild/protobuf';
import { DurationSchema, file_google_protobuf_any, FileDescriptorProtoSchema, timestampFromDate, ValueSchema } from '@bufbuild/protobuf/wkt';
import { ModelVersionRegisteredSchema } from '../gen';
import { topics } from '../topics';
import { buildAsyncApiDocument } from './asyncapi-document';
import { componentSchemasFor } from './json-schema';

const schemas = (buildAsyncApiDocument().components as JsonObject)['schemas'] as JsonObject;

describe('JSON Schema of the proto3 JSON mapping', () => {
  describe('for every event, filled with a value in every field', () => {
    for (const schema of topics.flatMap((topic): readonly DescMessage[] => topic.events)) {
      it(`describes what toJson emits for ${schema.typeName}`, () => {
        const json = toJson(schema, create(schema, sampleInit(schema)));
        assert.deepEqual(validate(json, { $ref: `#/components/schemas/${schema.typeName}` }, '$'), []);
      });
    }

    it('accepts non-finite doubles, which proto3 JSON writes as strings', () => {
      const json = toJson(ModelVersionRegisteredSchema, create(ModelVersionRegisteredSchema, { metrics: { auc: Number.NaN } }));
      assert.deepEqual(validate(json, { $ref: '#/components/schemas/loopline.registry.v1.ModelVersionRegistered' }, '$'), []);
    });
  });

  describe('the validator used above', () => {
    // Guards against a validator that accepts everything, which would make the tests above moot.
    it('rejects an unknown field, a number for an int64 and an unknown enum name', () => {
      const ref = { $ref: '#/components/schemas/loopline.registry.v1.ModelVersionRegistered' };
      assert.notDeepEqual(validate({ modelNmae: 'x' }, ref, '$'), []);
      assert.notDeepEqual(validate({ artifact: { sizeBytes: 12 } }, ref, '$'), []);
      assert.notDeepEqual(validate({ artifact: { format: 'ONNX' } }, ref, '$'), []);
      assert.notDeepEqual(validate({ registeredAt: 'yesterday' }, ref, '$'), []);
    });
  });

  describe('for specific proto constructs', () => {
    const field = (message: string, name: string): JsonObject =>
      ((schemas[message] as JsonObject)['properties'] as JsonObject)[name] as JsonObject;

    it('writes int64 as a decimal string and uint32 as an integer', () => {
      assert.deepEqual(
        { ...field('loopline.ingestion.v1.DatasetVersionCreated', 'rowCount'), description: undefined },
        { type: 'string', format: 'int64', pattern: '^-?[0-9]+$', description: undefined },
      );
      assert.equal(field('loopline.ingestion.v1.DatasetVersionCreated', 'schemaVersion')['type'], 'integer');
    });

    it('refers to enums, listing their value names and documenting each value', () => {
      assert.deepEqual(field('loopline.ingestion.v1.Anomaly', 'severity')['allOf'], [
        { $ref: '#/components/schemas/loopline.ingestion.v1.AnomalySeverity' },
      ]);
      const severity = schemas['loopline.ingestion.v1.AnomalySeverity'] as JsonObject;
      assert.deepEqual(severity['enum'], ['ANOMALY_SEVERITY_UNSPECIFIED', 'ANOMALY_SEVERITY_WARNING', 'ANOMALY_SEVERITY_ERROR']);
      assert.match(String(severity['description']), /- `ANOMALY_SEVERITY_ERROR`: The version is rejected\./);
    });

    it('writes Timestamp, Duration, Struct, maps and repeated fields as plain JSON', () => {
      assert.equal(field('loopline.registry.v1.ModelVersionRegistered', 'registeredAt')['format'], 'date-time');
      assert.equal(field('loopline.featurestore.v1.FeatureViewApplied', 'ttl')['type'], 'string');
      assert.equal(field('loopline.serving.v1.PredictionLogged', 'inputs')['type'], 'object');
      assert.deepEqual(field('loopline.training.v1.TrainingRunStarted', 'params')['additionalProperties'], { type: 'string' });
      assert.equal(field('loopline.registry.v1.ModelSignature', 'inputs')['type'], 'array');
    });

    it('allows at most one member of a oneof', () => {
      assert.deepEqual((schemas['loopline.monitoring.v1.AlertResolved'] as JsonObject)['allOf'], [
        { not: { required: ['driftEvidence', 'performanceEvidence'] } },
      ]);
    });

    it('refuses a well-known type whose JSON form it does not know', () => {
      const registry = createFileRegistry(
        create(FileDescriptorProtoSchema, {
          name: 'x.proto',
          package: 'x',
          syntax: 'proto3',
          dependency: ['google/protobuf/any.proto'],
          messageType: [{ name: 'X', field: [{ name: 'any', number: 1, type: 11, label: 1, typeName: '.google.protobuf.Any' }] }],
        }),
        (name) => (name === 'google/protobuf/any.proto' ? file_google_protobuf_any : undefined),
      );
      const x = registry.getMessage('x.X');
      assert.ok(x);
      assert.throws(() => componentSchemasFor([x], {}), /google\.protobuf\.Any has no JSON Schema yet/);
    });
  });
});

// A message init with a non-default value in every field (the first member of each oneof), so
// that toJson emits every field.
function sampleInit(message: DescMessage, depth = 0): Record<string, unknown> {
  const init: Record<string, unknown> = {};
  for (const field of message.fields) {
    if (field.oneof !== undefined) {
      if (field.oneof.fields[0] === field) init[field.oneof.localName] = { case: field.localName, value: sampleSingular(field, depth) };
      continue;
    }
    const value = sampleSingular(field, depth);
    init[field.localName] =
      field.fieldKind === 'list' ? [value, value] : field.fieldKind === 'map' ? { [sampleMapKey(field.mapKey)]: value } : value;
  }
  return init;
}

function sampleSingular(field: DescField, depth: number): unknown {
  if (field.scalar !== undefined) return sampleScalar(field.scalar);
  if (field.enum !== undefined) return field.enum.values[1]?.number ?? 0;
  switch (field.message.typeName) {
    case 'google.protobuf.Timestamp':
      return timestampFromDate(new Date('2001-03-04T05:06:07.123Z'));
    case 'google.protobuf.Duration':
      return create(DurationSchema, { seconds: 90n, nanos: 500_000_000 });
    case 'google.protobuf.Struct':
      return { distance: [1234], origin: 'ATL', nested: { ok: true } };
    case 'google.protobuf.Value':
      // Only Struct fields are plain JSON in protobuf-es message shapes; Value stays a message.
      return create(ValueSchema, { kind: { case: 'numberValue', value: 37.5 } });
    default:
      return depth > 5 ? {} : sampleInit(field.message, depth + 1);
  }
}

function sampleScalar(scalar: ScalarType): unknown {
  switch (scalar) {
    case ScalarType.STRING:
      return 'text';
    case ScalarType.BOOL:
      return true;
    case ScalarType.BYTES:
      return new Uint8Array([1, 2, 3]);
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return 0.25;
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return -9_007_199_254_740_993n;
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return 9_007_199_254_740_993n;
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return -7;
    default:
      return 7;
  }
}

function sampleMapKey(key: ScalarType): string {
  return key === ScalarType.STRING ? 'key' : key === ScalarType.BOOL ? 'true' : '1';
}

// The subset of JSON Schema the generator emits, enough to check documents against it. Returns
// one line per violation.
function validate(value: JsonValue, schema: JsonObject, at: string): string[] {
  const errors: string[] = [];
  const ref = schema['$ref'];
  if (typeof ref === 'string') {
    const target = schemas[ref.replace('#/components/schemas/', '')];
    if (target === undefined) return [`${at}: unresolved ${ref}`];
    errors.push(...validate(value, target as JsonObject, at));
  }
  for (const sub of (schema['allOf'] as JsonObject[] | undefined) ?? []) errors.push(...validate(value, sub, at));
  const oneOf = schema['oneOf'] as JsonObject[] | undefined;
  if (oneOf !== undefined && oneOf.filter((sub) => validate(value, sub, at).length === 0).length !== 1) {
    errors.push(`${at}: matches not exactly one of oneOf`);
  }
  const not = schema['not'] as JsonObject | undefined;
  if (not !== undefined && validate(value, not, at).length === 0) errors.push(`${at}: matches a forbidden schema`);
  const type = schema['type'];
  if (typeof type === 'string' && !hasType(value, type)) return [...errors, `${at}: ${JSON.stringify(value)} is not of type ${type}`];
  const allowed = schema['enum'] as JsonValue[] | undefined;
  if (allowed !== undefined && !allowed.includes(value)) errors.push(`${at}: ${JSON.stringify(value)} is not one of the enum`);
  if (schema['const'] !== undefined && schema['const'] !== value) errors.push(`${at}: is not ${JSON.stringify(schema['const'])}`);
  if (typeof value === 'string') {
    if (typeof schema['pattern'] === 'string' && !new RegExp(schema['pattern']).test(value)) errors.push(`${at}: does not match pattern`);
    if (schema['format'] === 'date-time' && !/^\d{4}-\d{2}-\d{2}T[0-9:.]+Z$/.test(value)) errors.push(`${at}: not a date-time`);
  }
  if (typeof value === 'number') {
    if (typeof schema['minimum'] === 'number' && value < schema['minimum']) errors.push(`${at}: below minimum`);
    if (typeof schema['maximum'] === 'number' && value > schema['maximum']) errors.push(`${at}: above maximum`);
  }
  if (Array.isArray(value) && schema['items'] !== undefined) {
    value.forEach((item, i) => errors.push(...validate(item, schema['items'] as JsonObject, `${at}[${i}]`)));
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const properties = (schema['properties'] as JsonObject | undefined) ?? {};
    for (const name of (schema['required'] as string[] | undefined) ?? []) {
      if (!(name in value)) errors.push(`${at}: lacks ${name}`);
    }
    for (const [name, item] of Object.entries(value)) {
      if (item === undefined) continue;
      const property = properties[name] as JsonObject | undefined;
      const additional = schema['additionalProperties'];
      if (property !== undefined) errors.push(...validate(item, property, `${at}.${name}`));
      else if (additional === false) errors.push(`${at}: unexpected property ${name}`);
      else if (typeof additional === 'object' && additional !== null && !Array.isArray(additional)) {
        errors.push(...validate(item, additional, `${at}.${name}`));
      }
    }
  }
  return errors;
}

function hasType(value: JsonValue, type: string): boolean {
  switch (type) {
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'null':
      return value === null;
    default:
      return typeof value === type;
  }
}
