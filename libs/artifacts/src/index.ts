export { assertSha256, sha256Pattern, type ArtifactStore, type ReceivedFile, type StoredBlob } from './artifact-store';
export { loadArtifactStoreSettings, type ArtifactStoreSettings, type S3Settings } from './artifact-store-config';
export { createArtifactStore } from './create-artifact-store';
export { LocalArtifactStore } from './local-artifact-store';
export { createS3Client, S3ArtifactStore, type S3Sender } from './s3-artifact-store';
export { receivedFileOf, UploadArea } from './upload-area';
export { verifyingStream } from './verifying-stream';
