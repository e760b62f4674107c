// Structural checks of an ONNX file before any runtime sees it: what the bytes are (sniffed, so
// a pickle or an archive is named as such and never deserialised), whether they decode as an
// ONNX ModelProto, and whether any tensor anywhere in the model — initializers, sparse
// initializers, attribute tensors, subgraphs of If/Loop/Scan, training graphs, functions — keeps
// its data in an external file. External data is refused outright (REFERENCE §7, SEC-3): its
// path handling has been escaped repeatedly (CVE-2022-25882, CVE-2024-27318, CVE-2026-27489…),
// and a digest of the .onnx file alone would not cover the external bytes (SEC-6).
//
// Runs inside the validation worker process (it decodes untrusted protobuf), never in the service.
import { onnx } from 'onnx-proto';

/** Why a file is not an acceptable model, in words for the client. */
export interface InspectionFailure {
  readonly reason: string;
}

/** Subgraph nesting beyond this is refused: legitimate models nest a handful of levels. */
export const maxGraphDepth = 32;

/** Magic numbers of formats people upload by mistake (or on purpose). */
const signatures: readonly { readonly test: (bytes: Uint8Array) => boolean; readonly reason: string }[] = [
  {
    // Pickle protocol 2-5 starts with PROTO (0x80) and the protocol number.
    test: (bytes) => bytes.length >= 2 && bytes[0] === 0x80 && bytes[1]! >= 2 && bytes[1]! <= 5,
    reason: 'the file is a Python pickle, not an ONNX model: pickles are never loaded (they can run code); export the model to ONNX',
  },
  {
    test: (bytes) => startsWith(bytes, [0x50, 0x4b, 0x03, 0x04]) || startsWith(bytes, [0x50, 0x4b, 0x05, 0x06]),
    reason: 'the file is a ZIP archive (e.g. a PyTorch .pt or a Keras .keras file), not an ONNX model: upload the single .onnx file',
  },
  {
    test: (bytes) => startsWith(bytes, [0x89, 0x48, 0x44, 0x46]),
    reason: 'the file is HDF5 (e.g. a Keras .h5 file), not an ONNX model',
  },
  {
    test: (bytes) => startsWith(bytes, [0x1f, 0x8b]),
    reason: 'the file is gzip-compressed: upload the uncompressed .onnx file',
  },
];

/** The decoded model, or why the bytes are not an acceptable ONNX model. */
export function inspectOnnx(bytes: Uint8Array): { readonly model: onnx.ModelProto } | InspectionFailure {
  if (bytes.length === 0) return { reason: 'the file is empty' };
  for (const signature of signatures) if (signature.test(bytes)) return { reason: signature.reason };

  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    return { reason: `the file is not a valid ONNX model: it does not decode as an ONNX ModelProto (truncated, or not ONNX): ${shortMessage(error)}` };
  }
  if (!positive(model.irVersion)) return { reason: 'the file is not a valid ONNX model: it has no ir_version' };
  if (model.opsetImport.length === 0) return { reason: 'the file is not a valid ONNX model: it imports no operator set' };
  if (!model.graph) return { reason: 'the file is not a valid ONNX model: it has no graph' };
  if ((model.graph.output ?? []).length === 0) return { reason: 'the file is not a valid ONNX model: its graph has no outputs' };

  const external = findExternalData(model);
  if (external) return external;
  return { model };
}

/** The first tensor that references external data, as a failure naming it; undefined when none does. */
export function findExternalData(model: onnx.IModelProto): InspectionFailure | undefined {
  try {
    for (const { tensor, where } of tensorsOf(model)) {
      const location = externalLocation(tensor);
      if (location !== undefined) {
        return {
          reason:
            `tensor "${printable(tensor.name ?? '')}" (${where}) keeps its data in an external file ${location}: ` +
            'models with external data are refused; save the model with all tensors inside the .onnx file',
        };
      }
    }
  } catch (error) {
    if (error instanceof GraphTooDeep) return { reason: error.message };
    throw error;
  }
  return undefined;
}

class GraphTooDeep extends Error {}

interface FoundTensor {
  readonly tensor: onnx.ITensorProto;
  readonly where: string;
}

function* tensorsOf(model: onnx.IModelProto): Generator<FoundTensor> {
  if (model.graph) yield* tensorsOfGraph(model.graph, 'graph', 1);
  for (const [index, info] of (model.trainingInfo ?? []).entries()) {
    if (info.initialization) yield* tensorsOfGraph(info.initialization, `training_info[${index}].initialization`, 1);
    if (info.algorithm) yield* tensorsOfGraph(info.algorithm, `training_info[${index}].algorithm`, 1);
  }
  for (const fn of model.functions ?? []) {
    for (const node of fn.node ?? []) yield* tensorsOfNode(node, `function ${printable(fn.name ?? '')}`, 1);
  }
}

function* tensorsOfGraph(graph: onnx.IGraphProto, where: string, depth: number): Generator<FoundTensor> {
  if (depth > maxGraphDepth) throw new GraphTooDeep(`the model nests subgraphs deeper than ${maxGraphDepth} levels`);
  const here = `${where} ${printable(graph.name ?? '')}`.trim();
  for (const tensor of graph.initializer ?? []) yield { tensor, where: `initializer of ${here}` };
  for (const sparse of graph.sparseInitializer ?? []) yield* tensorsOfSparse(sparse, `sparse initializer of ${here}`);
  for (const node of graph.node ?? []) yield* tensorsOfNode(node, here, depth);
}

function* tensorsOfNode(node: onnx.INodeProto, where: string, depth: number): Generator<FoundTensor> {
  const nodeWhere = `attribute of node ${printable(node.name || node.opType || '?')} in ${where}`;
  for (const attribute of node.attribute ?? []) {
    if (attribute.t) yield { tensor: attribute.t, where: nodeWhere };
    for (const tensor of attribute.tensors ?? []) yield { tensor, where: nodeWhere };
    if (attribute.sparseTensor) yield* tensorsOfSparse(attribute.sparseTensor, nodeWhere);
    for (const sparse of attribute.sparseTensors ?? []) yield* tensorsOfSparse(sparse, nodeWhere);
    if (attribute.g) yield* tensorsOfGraph(attribute.g, `subgraph of node ${printable(node.name || node.opType || '?')}`, depth + 1);
    for (const graph of attribute.graphs ?? []) yield* tensorsOfGraph(graph, `subgraph of node ${printable(node.name || node.opType || '?')}`, depth + 1);
  }
}

function* tensorsOfSparse(sparse: onnx.ISparseTensorProto, where: string): Generator<FoundTensor> {
  if (sparse.values) yield { tensor: sparse.values, where };
  if (sparse.indices) yield { tensor: sparse.indices, where };
}

/** The external location a tensor names (quoted for the message), or undefined when its data is inside. */
function externalLocation(tensor: onnx.ITensorProto): string | undefined {
  const entries = tensor.externalData ?? [];
  if (tensor.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL && entries.length === 0) return undefined;
  const location = entries.find((entry) => entry.key === 'location')?.value;
  return location === undefined || location === null ? '(no location given)' : JSON.stringify(printable(location));
}

function positive(value: number | Long | null | undefined): boolean {
  if (value === null || value === undefined) return false;
  return typeof value === 'number' ? value > 0 : value.toNumber() > 0;
}

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((byte, index) => bytes[index] === byte);
}

/** Untrusted text for a message: no control characters, bounded length. */
function printable(text: string): string {
   
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, '?');
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}

function shortMessage(error: unknown): string {
  return printable(error instanceof Error ? error.message : String(error));
}

type Long = { toNumber(): number };
