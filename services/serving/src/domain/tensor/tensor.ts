import type { Datatype, TensorElements } from './datatype';

/** A named tensor with its elements decoded: what a model receives and returns. */
export interface Tensor {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
  readonly data: TensorElements;
}

/** One input or output of a model, as its metadata declares it. */
export interface TensorSpec {
  readonly name: string;
  readonly datatype: Datatype;
  /** Dimensions; -1 marks a variable dimension (a symbolic dimension of the ONNX graph). */
  readonly shape: readonly number[];
}

/** A model's inputs and outputs. */
export interface ModelSignature {
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
}

/**
 * Requests can be batched together only when every input and output has a variable first
 * dimension (the batch): then rows can be stacked into one run and the outputs split again.
 */
export function isBatchable(signature: ModelSignature): boolean {
  const variableFirst = (spec: TensorSpec) => spec.shape.length > 0 && spec.shape[0] === -1;
  return signature.inputs.length > 0 && signature.inputs.every(variableFirst) && signature.outputs.every(variableFirst);
}
