import type { ArtifactStore } from './artifact-store';
import type { ArtifactStoreSettings } from './artifact-store-config';
import { LocalArtifactStore } from './local-artifact-store';
import { createS3Client, S3ArtifactStore } from './s3-artifact-store';
import { UploadArea } from './upload-area';

/**
 * The store and its upload area. Uploads always land on the local disk first (under the local
 * root), where they are hashed and validated before they enter the store.
 */
export function createArtifactStore(settings: ArtifactStoreSettings, namespace: string): { store: ArtifactStore; uploads: UploadArea } {
  const uploads = new UploadArea(settings.root);
  if (settings.kind === 'local') return { store: new LocalArtifactStore(settings.root, namespace), uploads };
  return { store: new S3ArtifactStore(createS3Client(settings), settings), uploads };
}
