// ONNX Runtime element types → Open Inference Protocol datatypes (REFERENCE §1.2). BF16 is
// Triton's addition to the list; the other ONNX types (4-bit, float8…) have no OIP datatype.
const oipDatatypes: Readonly<Record<string, string>> = {
  bool: 'BOOL',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  float16: 'FP16',
  float32: 'FP32',
  float64: 'FP64',
  bfloat16: 'BF16',
  string: 'BYTES',
};

/** The OIP datatype of an ONNX Runtime tensor type, or undefined when there is none. */
export function oipDatatype(onnxRuntimeType: string): string | undefined {
  return oipDatatypes[onnxRuntimeType];
}

/** An ONNX Runtime shape as an OIP shape: symbolic or unknown dimensions become -1. */
export function oipShape(shape: readonly (number | string)[]): number[] {
  return shape.map((dimension) => (typeof dimension === 'number' && Number.isSafeInteger(dimension) && dimension >= 0 ? dimension : -1));
}
