// The feature store's artifact store (content-addressed, local folder or S3) behind the
// `Artifacts` port.
import type { ArtifactStore, UploadArea } from '@loopline/artifacts';
import { receivedFileOf } from '@loopline/artifacts';
import type { Artifacts, StoredArtifact } from '../application/ports';

export class StoreArtifacts implements Artifacts {
  constructor(
    private readonly store: ArtifactStore,
    private readonly uploads: UploadArea,
  ) {}

  temporaryPath(): Promise<string> {
    return this.uploads.temporaryPath();
  }

  discard(path: string): Promise<void> {
    return this.uploads.discard({ path });
  }

  async storeFile(path: string): Promise<StoredArtifact> {
    const stored = await this.store.put(await receivedFileOf(path));
    return { uri: stored.uri, sha256: stored.sha256, sizeBytes: stored.sizeBytes };
  }

  read(artifact: Pick<StoredArtifact, 'sha256' | 'sizeBytes'>) {
    return this.store.read(artifact);
  }
}
