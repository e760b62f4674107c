// Content-addressed blobs in any S3-compatible store: key `<prefix>sha256/<64 hex>`. The upload
// streams from the received file (never buffered whole); the object's SHA-256 travels in its
// metadata, and reads are verified against the caller's record, not against that metadata.
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { IntegrityError, UnavailableError } from '@loopline/errors';
import { assertSha256, type ArtifactStore, type ReceivedFile, type StoredBlob } from './artifact-store';
import type { S3Settings } from './artifact-store-config';
import { verifyingStream } from './verifying-stream';

/** The part of the S3 client the store uses. */
export type S3Sender = Pick<S3Client, 'send'>;

export function createS3Client(settings: S3Settings): S3Client {
  const config: S3ClientConfig = { region: settings.region, forcePathStyle: settings.forcePathStyle };
  if (settings.endpoint) config.endpoint = settings.endpoint;
  if (settings.credentials) config.credentials = settings.credentials;
  return new S3Client(config);
}

export class S3ArtifactStore implements ArtifactStore {
  constructor(
    private readonly client: S3Sender,
    private readonly settings: Pick<S3Settings, 'bucket' | 'prefix'>,
  ) {}

  key(sha256: string): string {
    assertSha256(sha256);
    return `${this.settings.prefix}sha256/${sha256}`;
  }

  uri(sha256: string): string {
    return `s3://${this.settings.bucket}/${this.key(sha256)}`;
  }

  async put(file: ReceivedFile): Promise<StoredBlob> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.settings.bucket,
          Key: this.key(file.sha256),
          Body: createReadStream(file.path),
          ContentLength: file.sizeBytes,
          ContentType: 'application/octet-stream',
          Metadata: { sha256: file.sha256 },
        }),
      );
    } catch (error) {
      throw new UnavailableError(`the artifact store did not accept the upload: ${messageOf(error)}`);
    }
    await rm(file.path, { force: true });
    return { sha256: file.sha256, sizeBytes: file.sizeBytes, uri: this.uri(file.sha256) };
  }

  async has(sha256: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.settings.bucket, Key: this.key(sha256) }));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw new UnavailableError(`the artifact store cannot be read: ${messageOf(error)}`);
    }
  }

  async read(blob: Pick<StoredBlob, 'sha256' | 'sizeBytes'>): Promise<Readable> {
    let body: unknown;
    try {
      body = (await this.client.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key: this.key(blob.sha256) }))).Body;
    } catch (error) {
      if (isNotFound(error)) {
        throw new IntegrityError(`stored artifact ${blob.sha256} is missing from the artifact store`, { sha256: blob.sha256, expectedSizeBytes: blob.sizeBytes });
      }
      throw new UnavailableError(`the artifact store cannot be read: ${messageOf(error)}`);
    }
    if (!(body instanceof Readable)) throw new UnavailableError('the artifact store returned no readable body');
    const verifier = verifyingStream(blob);
    body.once('error', (error) => verifier.destroy(error));
    return body.pipe(verifier);
  }
}

function isNotFound(error: unknown): boolean {
  const name = (error as { name?: string }).name;
  return name === 'NoSuchKey' || name === 'NotFound' || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
