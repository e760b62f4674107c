import type { Readable } from 'node:stream';

/** A blob once stored: its identity is its SHA-256. */
export interface StoredBlob {
  readonly sha256: string;
  readonly sizeBytes: number;
  /** Logical address (`artifact://<namespace>/sha256/<hex>` or `s3://bucket/key`), for records and lineage. */
  readonly uri: string;
}

/** A file received into the upload area: hashed while it streamed in, not yet in the store. */
export interface ReceivedFile {
  /** Absolute path of the temporary file; never derived from anything a client sent. */
  readonly path: string;
  readonly sha256: string;
  readonly sizeBytes: number;
}

/** Content-addressed blob storage (local folder or S3-compatible). */
export interface ArtifactStore {
  /** Moves a received file into the store under its SHA-256 (idempotent: equal bytes, one blob). */
  put(file: ReceivedFile): Promise<StoredBlob>;
  /**
   * The blob's bytes, checked against its SHA-256 and size while they stream: on a mismatch the
   * stream fails with `IntegrityError` before its last chunk, so no reader sees a whole damaged blob.
   */
  read(blob: Pick<StoredBlob, 'sha256' | 'sizeBytes'>): Promise<Readable>;
  /** Whether a blob with this digest is stored. */
  has(sha256: string): Promise<boolean>;
}

export const sha256Pattern = /^[0-9a-f]{64}$/;

export function assertSha256(sha256: string): void {
  if (!sha256Pattern.test(sha256)) throw new Error(`not a SHA-256 digest: ${JSON.stringify(sha256)}`);
}
