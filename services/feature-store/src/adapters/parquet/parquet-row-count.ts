// The row count of a Parquet file from its footer, without a query engine: a training set streamed
// back from a ClickHouse server lands in a local file the server cannot read, and counting by
// re-running the join would double its cost. The footer is the Thrift (compact protocol)
// `FileMetaData`, whose field 3 is `num_rows` (parquet-format's parquet.thrift); every other field
// is skipped by type, so writers that add fields later do not break this reader.
import { open } from 'node:fs/promises';

const magic = 'PAR1';

/** @throws Error when the file is not Parquet or its footer cannot be decoded. */
export async function parquetRowCount(path: string): Promise<number> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size < 12) throw new Error(`${size} bytes are too few for a Parquet file`);
    const tail = Buffer.alloc(8);
    await handle.read(tail, 0, 8, size - 8);
    if (tail.toString('latin1', 4) !== magic) throw new Error('the file does not end with the Parquet magic bytes');
    const footerLength = tail.readUInt32LE(0);
    if (footerLength > size - 12) throw new Error(`the Parquet footer length ${footerLength} exceeds the file`);
    const footer = Buffer.alloc(footerLength);
    await handle.read(footer, 0, footerLength, size - 8 - footerLength);
    return rowCountOfFileMetaData(footer);
  } finally {
    await handle.close();
  }
}

/** `num_rows` of a compact-protocol `FileMetaData`. */
export function rowCountOfFileMetaData(footer: Buffer): number {
  const reader = new CompactReader(footer);
  let rows: bigint | undefined;
  reader.readStruct((fieldId, type) => {
    if (fieldId === 3 && type === CompactType.i64) {
      rows = reader.readVarLong();
      return true;
    }
    return false;
  });
  if (rows === undefined) throw new Error('the Parquet footer has no num_rows');
  if (rows < 0n || rows > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`the Parquet footer has an impossible num_rows ${rows}`);
  return Number(rows);
}

const CompactType = {
  stop: 0,
  boolTrue: 1,
  boolFalse: 2,
  byte: 3,
  i16: 4,
  i32: 5,
  i64: 6,
  double: 7,
  binary: 8,
  list: 9,
  set: 10,
  map: 11,
  struct: 12,
} as const;

/** Just enough of Thrift's compact protocol to find one field and skip the rest. */
class CompactReader {
  private offset = 0;

  constructor(private readonly bytes: Buffer) {}

  private byte(): number {
    if (this.offset >= this.bytes.length) throw new Error('the Parquet footer ends early');
    return this.bytes[this.offset++]!;
  }

  private varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const next = this.byte();
      result |= BigInt(next & 0x7f) << shift;
      if ((next & 0x80) === 0) return result;
    }
    throw new Error('the Parquet footer has a malformed varint');
  }

  /** A zigzag-encoded i16/i32/i64. */
  readVarLong(): bigint {
    const raw = this.varint();
    return (raw >> 1n) ^ -(raw & 1n);
  }

  private skipBytes(count: number): void {
    if (count < 0 || this.offset + count > this.bytes.length) throw new Error('the Parquet footer ends early');
    this.offset += count;
  }

  /**
   * Reads the fields of a struct; `field` consumes a field's value and returns true, or returns
   * false to have it skipped.
   */
  readStruct(field: (fieldId: number, type: number) => boolean = () => false): void {
    let lastId = 0;
    for (;;) {
      const header = this.byte();
      const type = header & 0x0f;
      if (type === CompactType.stop) return;
      const delta = header >> 4;
      const fieldId = delta === 0 ? Number(this.readVarLong()) : lastId + delta;
      lastId = fieldId;
      if (!field(fieldId, type)) this.skip(type, true);
    }
  }

  private skip(type: number, inField: boolean): void {
    switch (type) {
      case CompactType.boolTrue:
      case CompactType.boolFalse:
        // A field's boolean lives in its type nibble; a collection's takes a byte.
        if (!inField) this.skipBytes(1);
        return;
      case CompactType.byte:
        this.skipBytes(1);
        return;
      case CompactType.i16:
      case CompactType.i32:
      case CompactType.i64:
        this.varint();
        return;
      case CompactType.double:
        this.skipBytes(8);
        return;
      case CompactType.binary:
        this.skipBytes(Number(this.varint()));
        return;
      case CompactType.list:
      case CompactType.set: {
        const header = this.byte();
        const size = header >> 4 === 15 ? Number(this.varint()) : header >> 4;
        for (let index = 0; index < size; index += 1) this.skip(header & 0x0f, false);
        return;
      }
      case CompactType.map: {
        const size = Number(this.varint());
        if (size === 0) return;
        const types = this.byte();
        for (let index = 0; index < size; index += 1) {
          this.skip(types >> 4, false);
          this.skip(types & 0x0f, false);
        }
        return;
      }
      case CompactType.struct:
        this.readStruct();
        return;
      default:
        throw new Error(`the Parquet footer has an unknown Thrift type ${type}`);
    }
  }
}
