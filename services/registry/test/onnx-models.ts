// Test models built in TypeScript with onnx-proto: a tiny linear regressor (MatMul + Add), and
// hostile or broken variants of it. No binary fixtures: each test says what its model is.
import { onnx } from 'onnx-proto';

const FLOAT = onnx.TensorProto.DataType.FLOAT;

export interface LinearModelOptions {
  readonly weights?: readonly number[];
  readonly bias?: number;
  readonly inputName?: string;
  readonly outputName?: string;
  /** Extra float parameters appended as an unused initializer, to make the file bigger. */
  readonly paddingFloats?: number;
}

/** `score = features · weights + bias`, input `[batch, n]` FP32 with a symbolic batch dimension. */
export function linearModelProto(options: LinearModelOptions = {}): onnx.IModelProto {
  const weights = options.weights ?? [0.5, -0.25, 1.5];
  const inputName = options.inputName ?? 'features';
  const outputName = options.outputName ?? 'score';
  const initializer: onnx.ITensorProto[] = [
    { name: 'W', dims: [weights.length, 1], dataType: FLOAT, floatData: [...weights] },
    { name: 'B', dims: [1], dataType: FLOAT, floatData: [options.bias ?? 0.1] },
  ];
  if (options.paddingFloats) {
    initializer.push({ name: 'padding', dims: [options.paddingFloats], dataType: FLOAT, rawData: new Uint8Array(options.paddingFloats * 4) });
  }
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'loopline-registry-tests',
    graph: {
      name: 'linear',
      node: [
        { name: 'matmul', opType: 'MatMul', input: [inputName, 'W'], output: ['xw'] },
        { name: 'add', opType: 'Add', input: ['xw', 'B'], output: [outputName] },
      ],
      initializer,
      input: [tensorInfo(inputName, [{ dimParam: 'batch' }, { dimValue: weights.length }])],
      output: [tensorInfo(outputName, [{ dimParam: 'batch' }, { dimValue: 1 }])],
    },
  };
}

export function encodeModel(model: onnx.IModelProto): Buffer {
  return Buffer.from(onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish());
}

export function linearModel(options: LinearModelOptions = {}): Buffer {
  return encodeModel(linearModelProto(options));
}

/** The linear model whose weights tensor lives in an external file at `location`. */
export function externalDataModel(location: string): Buffer {
  const model = linearModelProto();
  const [weights, ...rest] = model.graph!.initializer!;
  const external: onnx.ITensorProto = {
    name: weights!.name,
    dims: weights!.dims,
    dataType: FLOAT,
    dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
    externalData: [
      { key: 'location', value: location },
      { key: 'offset', value: '0' },
      { key: 'length', value: '12' },
    ],
  };
  return encodeModel({ ...model, graph: { ...model.graph, initializer: [external, ...rest] } });
}

/** External data hidden in the `then` branch of an If node, one level down. */
export function nestedExternalDataModel(location: string): Buffer {
  const model = linearModelProto();
  const branch = (name: string, tensor: onnx.ITensorProto): onnx.IGraphProto => ({
    name,
    node: [{ opType: 'Identity', input: [tensor.name!], output: [`${name}_out`] }],
    initializer: [tensor],
    output: [tensorInfo(`${name}_out`, [{ dimValue: 1 }])],
  });
  const hidden: onnx.ITensorProto = {
    name: 'hidden',
    dims: [1],
    dataType: FLOAT,
    externalData: [{ key: 'location', value: location }],
  };
  const inline: onnx.ITensorProto = { name: 'inline', dims: [1], dataType: FLOAT, floatData: [1] };
  const graph = model.graph!;
  return encodeModel({
    ...model,
    graph: {
      ...graph,
      initializer: [...graph.initializer!, { name: 'cond', dims: [], dataType: onnx.TensorProto.DataType.BOOL, int32Data: [1] }],
      node: [
        ...graph.node!,
        {
          name: 'branch',
          opType: 'If',
          input: ['cond'],
          output: ['branch_out'],
          attribute: [
            { name: 'then_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: branch('then', hidden) },
            { name: 'else_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: branch('else', inline) },
          ],
        },
      ],
      output: [...graph.output!, tensorInfo('branch_out', [{ dimValue: 1 }])],
    },
  });
}

/** A model using an operator no runtime knows. */
export function unknownOperatorModel(): Buffer {
  const model = linearModelProto();
  const graph = model.graph!;
  return encodeModel({
    ...model,
    opsetImport: [...model.opsetImport!, { domain: 'com.example.evil', version: 1 }],
    graph: { ...graph, node: [graph.node![0]!, { name: 'add', opType: 'DoSomethingEvil', domain: 'com.example.evil', input: ['xw', 'B'], output: ['score'] }] },
  });
}

function tensorInfo(name: string, dims: onnx.TensorShapeProto.IDimension[]): onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType: FLOAT, shape: { dim: dims } } } };
}

/** A Python pickle header (protocol 4) followed by junk: must be refused by sniffing, never loaded. */
export function picklePayload(): Buffer {
  return Buffer.concat([Buffer.from([0x80, 0x04, 0x95]), Buffer.from('cos\nsystem\n(S"touch /tmp/pwned"\ntR.', 'latin1')]);
}
