// Where imports read from. A local path must be absolute, free of traversal and glob characters,
// and — once every symbolic link is resolved — a regular file inside one of the configured import
// folders (compared by real path, so a link pointing out of a folder is refused). An S3 URI must
// name an allowed bucket; the object streams into the upload area, hashed as it arrives.
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { GetObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { NotFoundError, UnavailableError, ValidationError } from '@loopline/errors';
import type { ImportSources, ReceivedFile, UploadArea } from '../../application/ports';
import type { IngestionServiceSettings } from '../../config';
import { hasGlobCharacters } from '../chdb/sql';

export class FileAndS3Imports implements ImportSources {
  private s3: S3Client | undefined;

  constructor(
    private readonly settings: Pick<IngestionServiceSettings, 'importRoots' | 'importS3'>,
    private readonly uploads: UploadArea,
  ) {}

  async resolveLocalPath(path: string): Promise<string> {
    if (this.settings.importRoots.length === 0) {
      throw new ValidationError('imports by path are disabled: no import folder is configured (LOOPLINE_INGESTION_IMPORT_ROOTS)', { field: 'path' });
    }
    if (typeof path !== 'string' || path === '' || !isAbsolute(path)) throw new ValidationError('"path" must be an absolute path', { field: 'path' });
    // Refused rather than normalised: a path that needs repair is not one a client meant honestly.
    if (/[\x00-\x1f]/.test(path)) throw new ValidationError('"path" contains control characters', { field: 'path' });
    if (path.split(/[\\/]/).some((segment) => segment === '..' || segment === '.')) throw new ValidationError('"path" contains "." or ".." segments', { field: 'path' });
    if (hasGlobCharacters(path)) throw new ValidationError('"path" contains glob characters (* ? [ ] { })', { field: 'path' });
    let real: string;
    try {
      real = await realpath(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`no file at ${JSON.stringify(path)}`, { field: 'path' });
      throw new ValidationError(`cannot read ${JSON.stringify(path)}: ${(error as Error).message}`, { field: 'path' });
    }
    const roots = await Promise.all(this.settings.importRoots.map((root) => realpath(root).catch(() => undefined)));
    const inside = roots.some((root) => {
      if (root === undefined) return false;
      const rest = relative(root, real);
      return rest !== '' && !rest.startsWith(`..${sep}`) && rest !== '..' && !isAbsolute(rest);
    });
    if (!inside || hasGlobCharacters(real)) {
      throw new ValidationError(`${JSON.stringify(path)} is outside the import folders`, { field: 'path', importRoots: this.settings.importRoots });
    }
    const info = await stat(real);
    if (!info.isFile()) throw new ValidationError(`${JSON.stringify(path)} is not a regular file`, { field: 'path' });
    return real;
  }

  async downloadS3(uri: string, options: { readonly maxBytes: number; readonly onProgress: (bytes: number) => void }): Promise<ReceivedFile> {
    const s3 = this.settings.importS3;
    if (!s3) throw new ValidationError('imports from S3 are disabled: no bucket is allowed (LOOPLINE_INGESTION_IMPORT_S3_BUCKETS)', { field: 'uri' });
    const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/.exec(uri);
    if (!match) throw new ValidationError(`"uri" must be s3://bucket/key, not ${JSON.stringify(uri)}`, { field: 'uri' });
    const [, bucket, key] = match as unknown as [string, string, string];
    if (!s3.buckets.includes(bucket)) throw new ValidationError(`bucket "${bucket}" is not among the buckets imports may read`, { field: 'uri', allowedBuckets: s3.buckets });
    this.s3 ??= new S3Client({
      region: s3.region,
      forcePathStyle: s3.forcePathStyle,
      ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
      ...(s3.credentials ? { credentials: s3.credentials } : {}),
    } satisfies S3ClientConfig);
    let body: Readable;
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!object.Body) throw new Error('the object has no body');
      if (object.ContentLength !== undefined && object.ContentLength > options.maxBytes) {
        throw new ValidationError(`${uri} is larger than the maximum of ${options.maxBytes} bytes`, { field: 'uri', maxBytes: options.maxBytes });
      }
      body = object.Body as Readable;
    } catch (error) {
      if (error instanceof ValidationError) throw error;
      const name = (error as { name?: string }).name;
      if (name === 'NoSuchKey' || name === 'NotFound') throw new NotFoundError(`no object at ${uri}`, { field: 'uri' });
      throw new UnavailableError(`cannot read ${uri}: ${(error as Error).message}`, { field: 'uri' });
    }
    return this.uploads.receive(body, { maxBytes: options.maxBytes, what: uri, onProgress: options.onProgress });
  }
}
