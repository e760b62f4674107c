import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, fromBinary, toBinary, type DescMessage } from '@bufbuild/protobuf';
import { CodeGeneratorRequestSchema, CodeGeneratorResponseSchema, FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { protoDocs } from '../gen/proto-docs';
import { topics } from '../topics';
import { collectProtoComments, renderBarrelModule, runLooplinePlugin } from './loopline-plugin';

// A file as protoc/buf describe it, with comments at the SourceCodeInfo paths of: message 0, its
// field 1, its oneof 0, its nested message 0, enum 0 and its value 1.
const file = create(FileDescriptorProtoSchema, {
  name: 'acme/v1/things.proto',
  package: 'acme.v1',
  syntax: 'proto3',
  messageType: [
    {
      name: 'Thing',
      field: [
        { name: 'id', number: 1, type: 9, label: 1 },
        { name: 'size_bytes', number: 2, type: 3, label: 1, oneofIndex: 0 },
      ],
      oneofDecl: [{ name: 'measure' }],
      nestedType: [{ name: 'Part' }],
    },
  ],
  enumType: [{ name: 'Colour', value: [{ name: 'COLOUR_UNSPECIFIED', number: 0 }, { name: 'COLOUR_RED', number: 1 }] }],
  sourceCodeInfo: {
    location: [
      { path: [4, 0], leadingComments: ' A thing.\n Second line.\n' },
      { path: [4, 0, 2, 1], leadingComments: ' Size in bytes.\n' },
      { path: [4, 0, 8, 0], leadingComments: ' How it is measured.\n' },
      { path: [4, 0, 3, 0], leadingComments: ' A part of a thing.\n' },
      { path: [5, 0], leadingComments: ' Colours.\n' },
      { path: [5, 0, 2, 1], trailingComments: ' Red.\n' },
    ],
  },
});

describe('protoc-gen-loopline', () => {
  describe('collectProtoComments', () => {
    it('keys comments by full name, fields and values under their parent', () => {
      assert.deepEqual(Object.fromEntries(collectProtoComments([file])), {
        'acme.v1.Thing': 'A thing.\nSecond line.',
        'acme.v1.Thing.size_bytes': 'Size in bytes.',
        'acme.v1.Thing.measure': 'How it is measured.',
        'acme.v1.Thing.Part': 'A part of a thing.',
        'acme.v1.Colour': 'Colours.',
        'acme.v1.Colour.COLOUR_RED': 'Red.',
      });
    });
  });

  describe('renderBarrelModule', () => {
    it('re-exports the protoc-gen-es output of each file, sorted', () => {
      const barrel = renderBarrelModule(['b/v1/b.proto', 'a/v1/a.proto']);
      assert.match(barrel, /export \* from "\.\/a\/v1\/a_pb";\nexport \* from "\.\/b\/v1\/b_pb";/);
    });
  });

  describe('runLooplinePlugin', () => {
    it('generates the comments and the barrel for the files to generate only', () => {
      const dependency = create(FileDescriptorProtoSchema, { name: 'dep.proto', package: 'dep', messageType: [{ name: 'Dep' }] });
      const request = create(CodeGeneratorRequestSchema, { fileToGenerate: [file.name], protoFile: [dependency, file] });
      const response = fromBinary(CodeGeneratorResponseSchema, runLooplinePlugin(toBinary(CodeGeneratorRequestSchema, request)));
      assert.equal(response.error, '');
      assert.deepEqual(response.file.map((f) => f.name), ['proto-docs.ts', 'index.ts']);
      assert.match(response.file[0]?.content ?? '', /"acme\.v1\.Thing": "A thing\.\\nSecond line\.",/);
      assert.doesNotMatch(response.file[1]?.content ?? '', /dep_pb/);
    });
  });

  describe('the generated proto-docs.ts', () => {
    it('documents every event and every field of it', () => {
      const undocumented = topics
        .flatMap((topic): readonly DescMessage[] => topic.events)
        .flatMap((schema) => [schema.typeName, ...schema.fields.map((field) => `${schema.typeName}.${field.name}`)])
        .filter((name) => (protoDocs[name] ?? '') === '');
      assert.deepEqual(undocumented, []);
    });
  });
});
