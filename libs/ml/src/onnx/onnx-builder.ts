// Small helpers to build ONNX graphs with onnx-proto, deterministically: every list is built in
// a fixed order, nothing carries a time, and metadata is a list (not a map) in the order given,
// so the same model always encodes to the same bytes.
import { onnx } from 'onnx-proto';

const Attr = onnx.AttributeProto.AttributeType;
const utf8 = new TextEncoder();

export const FLOAT = onnx.TensorProto.DataType.FLOAT;
export const INT64 = onnx.TensorProto.DataType.INT64;
export const STRING = onnx.TensorProto.DataType.STRING;

/** The ONNX versions every built-in model declares: IR 8, `ai.onnx` 15, `ai.onnx.ml` 3. */
export const irVersion = 8;
export const opsets: onnx.IOperatorSetIdProto[] = [
  { domain: '', version: 15 },
  { domain: 'ai.onnx.ml', version: 3 },
];

export type AttributeValue = number | string | readonly number[] | readonly string[] | { readonly ints: readonly number[] } | { readonly floats: readonly number[] };

/** `ints(...)` and `floats(...)` say which list type an array of numbers is. */
export const ints = (values: readonly number[]) => ({ ints: values });
export const floats = (values: ArrayLike<number>) => ({ floats: Array.from(values, (value) => Math.fround(value)) });

export function attribute(name: string, value: AttributeValue): onnx.IAttributeProto {
  if (typeof value === 'string') return { name, type: Attr.STRING, s: utf8.encode(value) };
  if (typeof value === 'number') return Number.isInteger(value) ? { name, type: Attr.INT, i: value } : { name, type: Attr.FLOAT, f: value };
  if ('ints' in value) return { name, type: Attr.INTS, ints: [...value.ints] };
  if ('floats' in value) return { name, type: Attr.FLOATS, floats: [...value.floats] };
  const list = value as readonly (string | number)[];
  if (list.every((item) => typeof item === 'string')) return { name, type: Attr.STRINGS, strings: (list as string[]).map((item) => utf8.encode(item)) };
  throw new Error(`attribute "${name}": say ints(...) or floats(...) for a list of numbers`);
}

/** A float attribute whose value happens to be an integer (e.g. `replaced_value_float`). */
export function floatAttribute(name: string, value: number): onnx.IAttributeProto {
  return { name, type: Attr.FLOAT, f: value };
}

export function node(opType: string, inputs: readonly string[], outputs: readonly string[], attributes: readonly onnx.IAttributeProto[] = [], domain = ''): onnx.INodeProto {
  return { name: outputs[0], opType, domain, input: [...inputs], output: [...outputs], attribute: [...attributes] };
}

export function tensorValue(name: string, elemType: number, dims: readonly (number | string)[]): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((dim) => (typeof dim === 'string' ? { dimParam: dim } : { dimValue: dim })) } } },
  };
}

export interface ModelInfo {
  readonly graphName: string;
  /** `producer_version`: the trainer's version, never a time. */
  readonly producerVersion: string;
  readonly docString?: string;
  /** Written as `metadata_props` in this order. */
  readonly metadata?: readonly (readonly [string, string])[];
}

export function encodeModel(graph: onnx.IGraphProto, info: ModelInfo): Uint8Array {
  const model: onnx.IModelProto = {
    irVersion,
    opsetImport: opsets,
    producerName: 'loopline',
    producerVersion: info.producerVersion,
    domain: 'ai.loopline',
    modelVersion: 1,
    docString: info.docString ?? '',
    graph: { ...graph, name: info.graphName },
    metadataProps: (info.metadata ?? []).map(([key, value]) => ({ key, value })),
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}
