import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { onnx } from 'onnx-proto';
import { encodeModel, externalDataModel, linearModel, linearModelProto, nestedExternalDataModel, picklePayload } from '../../../test/onnx-models';
import { inspectOnnx, maxGraphDepth } from './onnx-inspection';

const reasonOf = (bytes: Uint8Array): string | undefined => {
  const result = inspectOnnx(bytes);
  return 'reason' in result ? result.reason : undefined;
};

describe('ONNX inspection', () => {
  it('accepts a plain model', () => {
    assert.equal(reasonOf(linearModel()), undefined);
  });

  it('refuses external data by location, naming the tensor and the path', () => {
    assert.match(reasonOf(externalDataModel('../../etc/passwd')) ?? '', /tensor "W" \(initializer of graph linear\) keeps its data in an external file "\.\.\/\.\.\/etc\/passwd"/);
    assert.match(reasonOf(externalDataModel('/abs/weights.bin')) ?? '', /"\/abs\/weights\.bin"/);
  });

  it('refuses data_location = EXTERNAL even without a location entry', () => {
    const model = linearModelProto();
    model.graph!.initializer![0] = { ...model.graph!.initializer![0], dataLocation: onnx.TensorProto.DataLocation.EXTERNAL, floatData: [] };
    assert.match(reasonOf(encodeModel(model)) ?? '', /external file \(no location given\)/);
  });

  it('finds external data in subgraphs, attribute tensors and sparse initializers', () => {
    assert.match(reasonOf(nestedExternalDataModel('x.bin')) ?? '', /tensor "hidden"/);
    const attribute = linearModelProto();
    attribute.graph!.node!.push({
      opType: 'Constant',
      output: ['c'],
      attribute: [{ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: { name: 'const', dataType: 1, dims: [1], externalData: [{ key: 'location', value: 'c.bin' }] } }],
    });
    assert.match(reasonOf(encodeModel(attribute)) ?? '', /tensor "const" \(attribute of node Constant/);
    const sparse = linearModelProto();
    sparse.graph!.sparseInitializer = [{ dims: [4], values: { name: 'sv', dataType: 1, dims: [1], externalData: [{ key: 'location', value: 's.bin' }] }, indices: { name: 'si', dataType: 7, dims: [1], int64Data: [0] } }];
    assert.match(reasonOf(encodeModel(sparse)) ?? '', /tensor "sv" \(sparse initializer/);
  });

  it('refuses subgraphs nested deeper than the limit', () => {
    let graph: onnx.IGraphProto = { name: 'leaf', output: [{ name: 'o' }] };
    for (let depth = 0; depth <= maxGraphDepth; depth += 1) {
      graph = { name: `g${depth}`, node: [{ opType: 'If', input: ['c'], output: ['o'], attribute: [{ name: 'then_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: graph }] }], output: [{ name: 'o' }] };
    }
    const model = { ...linearModelProto(), graph: { ...graph, output: [{ name: 'o' }] } };
    assert.match(reasonOf(encodeModel(model)) ?? '', new RegExp(`deeper than ${maxGraphDepth} levels`));
  });

  it('names what a file is when it is not ONNX', () => {
    assert.match(reasonOf(picklePayload()) ?? '', /Python pickle/);
    assert.match(reasonOf(Buffer.from([0x1f, 0x8b, 8, 0])) ?? '', /gzip/);
    assert.match(reasonOf(Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d])) ?? '', /HDF5/);
    assert.equal(reasonOf(Buffer.alloc(0)), 'the file is empty');
  });

  it('refuses truncated files and protobufs that are not models', () => {
    const bytes = linearModel();
    assert.match(reasonOf(bytes.subarray(0, bytes.length - 7)) ?? '', /does not decode|no graph|no outputs/);
    assert.match(reasonOf(encodeModel({ irVersion: 8, opsetImport: [{ version: 13 }] })) ?? '', /has no graph/);
    assert.match(reasonOf(encodeModel({ ...linearModelProto(), irVersion: 0 })) ?? '', /no ir_version/);
  });
});
