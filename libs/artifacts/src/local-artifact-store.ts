// Content-addressed blobs on the local file system: `<root>/sha256/<2 hex>/<64 hex>`. The path
// is built only from a validated digest, and checked to stay inside the root.
import { createReadStream } from 'node:fs';
import { mkdir, rename, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { IntegrityError } from '@loopline/errors';
import { assertSha256, type ArtifactStore, type ReceivedFile, type StoredBlob } from './artifact-store';
import { verifyingStream } from './verifying-stream';

export class LocalArtifactStore implements ArtifactStore {
  readonly root: string;

  /** `namespace` names the owner in URIs (`artifact://registry/sha256/…`); it never reaches a path. */
  constructor(
    root: string,
    private readonly namespace: string,
  ) {
    this.root = resolve(root);
  }

  uri(sha256: string): string {
    return `artifact://${this.namespace}/sha256/${sha256}`;
  }

  /** Where a blob lives; throws unless the digest is a digest and the path stays inside the root. */
  blobPath(sha256: string): string {
    assertSha256(sha256);
    const path = join(this.root, 'sha256', sha256.slice(0, 2), sha256);
    const inside = relative(this.root, path);
    if (inside.startsWith('..') || isAbsolute(inside) || !path.startsWith(this.root + sep)) throw new Error(`blob path escapes the artifact root: ${path}`);
    return path;
  }

  async put(file: ReceivedFile): Promise<StoredBlob> {
    const path = this.blobPath(file.sha256);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    // Atomic: readers see the old blob or the new one, never a partial file. Equal digests mean
    // equal bytes, so replacing an existing blob changes nothing (and heals a damaged copy).
    await rename(file.path, path);
    return { sha256: file.sha256, sizeBytes: file.sizeBytes, uri: this.uri(file.sha256) };
  }

  async has(sha256: string): Promise<boolean> {
    try {
      await stat(this.blobPath(sha256));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }

  async read(blob: Pick<StoredBlob, 'sha256' | 'sizeBytes'>): Promise<Readable> {
    if (!(await this.has(blob.sha256))) {
      throw new IntegrityError(`stored artifact ${blob.sha256} is missing from the artifact store`, { sha256: blob.sha256, expectedSizeBytes: blob.sizeBytes });
    }
    const source = createReadStream(this.blobPath(blob.sha256));
    const verifier = verifyingStream(blob);
    source.once('error', (error) => verifier.destroy(error));
    return source.pipe(verifier);
  }
}
