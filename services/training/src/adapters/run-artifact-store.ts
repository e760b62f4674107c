// The run's files in the training service's content-addressed artifact store (@loopline/artifacts:
// local folder or S3), and per-job scratch folders beside its upload area.
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ArtifactStore, UploadArea } from '@loopline/artifacts';
import type { RunArtifactStore } from '../application/ports';
import type { Artifact } from '../domain/training-run/training-run';

export class ContentAddressedRunArtifacts implements RunArtifactStore {
  constructor(
    private readonly store: ArtifactStore,
    private readonly uploads: UploadArea,
    private readonly scratchRoot: string,
    private readonly maxBytes = 4 * 1024 * 1024 * 1024,
  ) {}

  async storeBytes(name: string, bytes: Uint8Array, contentType: string): Promise<Artifact> {
    const received = await this.uploads.receive(Readable.from([Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)]), { maxBytes: this.maxBytes, what: name });
    return this.put(name, received, contentType);
  }

  async storeFile(name: string, path: string, contentType: string): Promise<Artifact> {
    const received = await this.uploads.receive(createReadStream(path), { maxBytes: this.maxBytes, what: name });
    return this.put(name, received, contentType);
  }

  read(artifact: Pick<Artifact, 'sha256' | 'sizeBytes'>): Promise<NodeJS.ReadableStream> {
    return this.store.read(artifact);
  }

  async scratch(): Promise<{ readonly path: string; release(): Promise<void> }> {
    await mkdir(this.scratchRoot, { recursive: true, mode: 0o700 });
    const path = await mkdtemp(join(this.scratchRoot, 'job-'));
    return { path, release: () => rm(path, { recursive: true, force: true }) };
  }

  private async put(name: string, received: Awaited<ReturnType<UploadArea['receive']>>, contentType: string): Promise<Artifact> {
    try {
      const blob = await this.store.put(received);
      return { name, uri: blob.uri, sha256: blob.sha256, sizeBytes: blob.sizeBytes, contentType };
    } finally {
      await this.uploads.discard(received);
    }
  }
}
