import type { onnx } from 'onnx-proto';
import type { FeatureSpec } from '../data/features';
import { attribute, FLOAT, floatAttribute, floats, node, STRING, tensorValue } from './onnx-builder';

/** Name of the internal `[batch, features]` float tensor the estimator nodes read. */
export const featureMatrixName = 'loopline_features';

/**
 * The front of every built-in model: one input per feature, `[batch, 1]`, named after its
 * column — FLOAT for numeric features, STRING for categorical ones, which a `LabelEncoder` turns
 * into their target encoding (unknown → NaN) — concatenated into one float matrix.
 */
export function featureInputs(features: readonly FeatureSpec[]): { readonly inputs: onnx.IValueInfoProto[]; readonly nodes: onnx.INodeProto[] } {
  const inputs: onnx.IValueInfoProto[] = [];
  const nodes: onnx.INodeProto[] = [];
  const columns: string[] = [];
  features.forEach((feature, index) => {
    if (feature.kind === 'numeric') {
      inputs.push(tensorValue(feature.name, FLOAT, ['batch', 1]));
      columns.push(feature.name);
      return;
    }
    inputs.push(tensorValue(feature.name, STRING, ['batch', 1]));
    const encoded = `loopline_encoded_${index}`;
    nodes.push(
      node(
        'LabelEncoder',
        [feature.name],
        [encoded],
        [attribute('keys_strings', [...feature.categories]), attribute('values_floats', floats(feature.codes)), floatAttribute('default_float', Number.NaN)],
        'ai.onnx.ml',
      ),
    );
    columns.push(encoded);
  });
  nodes.push(node('Concat', columns, [featureMatrixName], [attribute('axis', 1)]));
  return { inputs, nodes };
}
