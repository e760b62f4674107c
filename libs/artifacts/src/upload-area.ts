// Uploads stream into `<root>/.incoming/<uuid>`, on the same file system as the local store so
// that moving a validated file into place is an atomic rename. The temporary name is ours;
// nothing a client sends (file names included) ever becomes part of a path.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ValidationError } from '@loopline/errors';
import type { ReceivedFile } from './artifact-store';

export class UploadArea {
  readonly incoming: string;

  constructor(root: string) {
    this.incoming = join(root, '.incoming');
  }

  /**
   * Streams `source` into a new temporary file, hashing as it goes and never holding the whole
   * file in memory. Throws `ValidationError` naming `what` when more than `maxBytes` arrive or
   * nothing does. `onProgress` hears the byte count as it grows.
   */
  async receive(
    source: AsyncIterable<Uint8Array> | NodeJS.ReadableStream,
    options: { readonly maxBytes: number; readonly what: string; readonly onProgress?: (bytes: number) => void },
  ): Promise<ReceivedFile> {
    await mkdir(this.incoming, { recursive: true, mode: 0o700 });
    const path = join(this.incoming, randomUUID());
    const hash = createHash('sha256');
    let sizeBytes = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
        sizeBytes += chunk.length;
        if (sizeBytes > options.maxBytes) {
          callback(new ValidationError(`${options.what} is larger than the maximum of ${options.maxBytes} bytes`, { field: options.what, maxBytes: options.maxBytes }));
          return;
        }
        hash.update(chunk);
        options.onProgress?.(sizeBytes);
        callback(null, chunk);
      },
    });
    try {
      // 'wx': never follow or overwrite anything already at the path.
      await pipeline(source, meter, createWriteStream(path, { flags: 'wx', mode: 0o600 }));
    } catch (error) {
      await rm(path, { force: true });
      throw error;
    }
    if (sizeBytes === 0) {
      await rm(path, { force: true });
      throw new ValidationError(`${options.what} is empty`, { field: options.what });
    }
    return { path, sha256: hash.digest('hex'), sizeBytes };
  }

  /** A fresh temporary path in the upload area, for files a service writes itself before storing them. */
  async temporaryPath(): Promise<string> {
    await mkdir(this.incoming, { recursive: true, mode: 0o700 });
    return join(this.incoming, randomUUID());
  }

  /** Removes a received file; a no-op when it was moved into the store already. */
  async discard(file: Pick<ReceivedFile, 'path'>): Promise<void> {
    await rm(file.path, { force: true });
  }
}

/** Hashes a file a service wrote itself (into `UploadArea.temporaryPath()`), so it can be stored. */
export async function receivedFileOf(path: string): Promise<ReceivedFile> {
  const hash = createHash('sha256');
  let sizeBytes = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    sizeBytes += (chunk as Buffer).length;
  }
  return { path, sha256: hash.digest('hex'), sizeBytes };
}
