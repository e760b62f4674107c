import { formatShape } from './datatype';
import type { ModelSignature, TensorSpec } from './tensor';

/**
 * Compares the signature the registry recorded with the one the runtime reads from the loaded
 * file. Names and datatypes must agree, and shapes wherever both sides fix a dimension. Returns
 * the first difference, or undefined when they agree.
 */
export function signatureDifference(registered: ModelSignature, loaded: ModelSignature): string | undefined {
  return sideDifference('input', registered.inputs, loaded.inputs) ?? sideDifference('output', registered.outputs, loaded.outputs);
}

function sideDifference(kind: string, registered: readonly TensorSpec[], loaded: readonly TensorSpec[]): string | undefined {
  const names = (specs: readonly TensorSpec[]) => specs.map((spec) => spec.name).sort().join(', ');
  if (names(registered) !== names(loaded)) return `${kind}s differ: registered [${names(registered)}], the file has [${names(loaded)}]`;
  for (const want of registered) {
    const got = loaded.find((spec) => spec.name === want.name)!;
    if (want.datatype !== got.datatype) return `${kind} '${want.name}': registered as ${want.datatype}, the file has ${got.datatype}`;
    const shapesAgree =
      want.shape.length === got.shape.length && want.shape.every((dim, index) => dim === -1 || got.shape[index] === -1 || dim === got.shape[index]);
    if (!shapesAgree) return `${kind} '${want.name}': registered with shape ${formatShape(want.shape)}, the file has ${formatShape(got.shape)}`;
  }
  return undefined;
}
