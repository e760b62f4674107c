import { onnx } from 'onnx-proto';

/**
 * Real ONNX models for the serving tests, built in TypeScript with onnx-proto (no Python needed):
 * what ONNX Runtime loads here is what a trainer would export.
 */

type Dim = number | string;

function valueInfo(name: string, elemType: onnx.TensorProto.DataType, dims: readonly Dim[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((dim) => (typeof dim === 'number' ? { dimValue: dim } : { dimParam: dim })) },
      },
    },
  };
}

function floatTensor(name: string, dims: readonly number[], values: readonly number[]): onnx.ITensorProto {
  return { name, dims: [...dims], dataType: onnx.TensorProto.DataType.FLOAT, floatData: [...values] };
}

function encodeModel(graph: onnx.IGraphProto, opset = 17): Buffer {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'loopline-serving-tests',
    opsetImport: [{ domain: '', version: opset }],
    graph,
  });
  return Buffer.from(onnx.ModelProto.encode(model).finish());
}

export interface LinearModelOptions {
  /** Weights, `features × classes`, row-major. */
  readonly weights: readonly number[];
  readonly bias: readonly number[];
  readonly features: number;
  /** Batch dimension: a symbolic name (dynamic) or a fixed size. */
  readonly batch?: Dim;
}

/**
 * A linear classifier: `scores = features · W + b` (MatMul + Add) and `label = argmax(scores)`.
 * Inputs: `features` FP32 [batch, features]. Outputs: `scores` FP32 [batch, classes], `label`
 * INT64 [batch].
 */
export function linearClassifier(options: LinearModelOptions): Buffer {
  const classes = options.bias.length;
  const batch = options.batch ?? 'batch';
  return encodeModel({
    name: 'linear-classifier',
    input: [valueInfo('features', onnx.TensorProto.DataType.FLOAT, [batch, options.features])],
    output: [
      valueInfo('scores', onnx.TensorProto.DataType.FLOAT, [batch, classes]),
      valueInfo('label', onnx.TensorProto.DataType.INT64, [batch]),
    ],
    initializer: [floatTensor('W', [options.features, classes], options.weights), floatTensor('b', [classes], options.bias)],
    node: [
      { opType: 'MatMul', input: ['features', 'W'], output: ['product'], name: 'matmul' },
      { opType: 'Add', input: ['product', 'b'], output: ['scores'], name: 'add' },
      { opType: 'ArgMax', input: ['scores'], output: ['label'], name: 'argmax', attribute: [{ name: 'axis', i: 1, type: onnx.AttributeProto.AttributeType.INT }, { name: 'keepdims', i: 0, type: onnx.AttributeProto.AttributeType.INT }] },
    ],
  });
}

/**
 * The model the hot-swap and canary tests use: 2 features, 2 classes, and a bias that encodes the
 * model's version in `scores[1]`, so every response proves which version computed it:
 * `scores = [x0 + x1, marker]` for any input.
 */
export function markerModel(marker: number): Buffer {
  return linearClassifier({ features: 2, weights: [1, 0, 1, 0], bias: [0, marker] });
}

/**
 * A model with one input of each kind the datatype tests need: `flag` BOOL [batch, 1],
 * `count` INT32 [batch, 1], `name` STRING [batch, 1]; it echoes them (Identity), so the wire
 * encodings of each datatype can be checked end to end.
 */
export function echoModel(): Buffer {
  const T = onnx.TensorProto.DataType;
  return encodeModel({
    name: 'echo',
    input: [valueInfo('flag', T.BOOL, ['batch', 1]), valueInfo('count', T.INT32, ['batch', 1]), valueInfo('name', T.STRING, ['batch', 1]), valueInfo('wide', T.DOUBLE, ['batch', 1]), valueInfo('big', T.INT64, ['batch', 1]), valueInfo('half', T.FLOAT16, ['batch', 1])],
    output: [valueInfo('flag_out', T.BOOL, ['batch', 1]), valueInfo('count_out', T.INT32, ['batch', 1]), valueInfo('name_out', T.STRING, ['batch', 1]), valueInfo('wide_out', T.DOUBLE, ['batch', 1]), valueInfo('big_out', T.INT64, ['batch', 1]), valueInfo('half_out', T.FLOAT16, ['batch', 1])],
    node: ['flag', 'count', 'name', 'wide', 'big', 'half'].map((input) => ({ opType: 'Identity', input: [input], output: [`${input}_out`], name: `echo_${input}` })),
  });
}
