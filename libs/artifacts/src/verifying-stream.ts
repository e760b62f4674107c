import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { IntegrityError } from '@loopline/errors';

/**
 * Passes bytes through while hashing them, holding the last chunk back until the end: only when
 * size and SHA-256 match does the final chunk go out. A reader of a damaged blob therefore never
 * receives a complete body (with Content-Length, the client sees a cut-off response; over gRPC
 * the stream ends with DATA_LOSS).
 */
export function verifyingStream(expected: { readonly sha256: string; readonly sizeBytes: number }): Transform {
  const hash = createHash('sha256');
  let sizeBytes = 0;
  let heldBack: Buffer | undefined;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      sizeBytes += chunk.length;
      hash.update(chunk);
      const previous = heldBack;
      heldBack = chunk;
      callback(null, previous);
    },
    flush(callback: TransformCallback) {
      const actual = hash.digest('hex');
      if (actual !== expected.sha256 || sizeBytes !== expected.sizeBytes) {
        callback(
          new IntegrityError(`stored artifact ${expected.sha256} is damaged: read ${sizeBytes} bytes with SHA-256 ${actual}`, {
            sha256: expected.sha256,
            expectedSizeBytes: expected.sizeBytes,
          }),
        );
        return;
      }
      callback(null, heldBack);
    },
  });
}
