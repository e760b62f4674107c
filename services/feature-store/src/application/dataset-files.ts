// Dataset versions as the offline store reads them. With `local-files` (embedded ClickHouse): local
// Parquet files, downloaded from the ingestion service once, verified against their SHA-256 while
// they stream, kept under their digest for reuse (a training set and several views often read the
// same version). With `ingestion-url` (a ClickHouse server): only described here; ClickHouse
// fetches the bytes from ingestion itself and the offline store verifies their SHA-256 there.
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { IntegrityError } from '@loopline/errors';
import type { DatasetAccess, DatasetFile, DatasetSource, DatasetVersionSummary } from './ports';

export class DatasetFiles {
  private readonly inFlight = new Map<string, Promise<DatasetFile>>();

  constructor(
    private readonly source: DatasetSource,
    private readonly folder: string,
    private readonly access: DatasetAccess = 'local-files',
  ) {}

  /** The id of the latest accepted version of a source, as ingestion says now. */
  async latestVersionId(sourceName: string): Promise<string> {
    return (await this.source.describe(sourceName, 'latest')).versionId;
  }

  /** Every accepted version of a source, oldest first. */
  list(sourceName: string): Promise<DatasetVersionSummary[]> {
    return this.source.list(sourceName);
  }

  /** The version described by ingestion and, with `local-files`, downloaded (once; SHA-256 checked). */
  async fetch(sourceName: string, versionId: string): Promise<DatasetFile> {
    const key = `${sourceName}\u0000${versionId}`;
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const work = this.download(sourceName, versionId).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, work);
    return work;
  }

  private async download(sourceName: string, versionId: string): Promise<DatasetFile> {
    const info = await this.source.describe(sourceName, versionId);
    if (this.access === 'ingestion-url') return { path: null, info };
    await mkdir(this.folder, { recursive: true });
    const path = join(this.folder, `${info.sha256}.parquet`);
    if (existsSync(path)) return { path, info };
    const partial = `${path}.${process.pid}.${Date.now()}.partial`;
    const hash = createHash('sha256');
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        callback(null, chunk);
      },
    });
    try {
      await pipeline(await this.source.open(sourceName, versionId), meter, createWriteStream(partial, { flags: 'wx' }));
      const actual = hash.digest('hex');
      if (actual !== info.sha256) {
        throw new IntegrityError(`dataset version ${sourceName}/${versionId} arrived with SHA-256 ${actual}, but ingestion describes ${info.sha256}`, {
          source: sourceName,
          versionId,
          expected: info.sha256,
          actual,
        });
      }
      await rename(partial, path);
    } finally {
      await rm(partial, { force: true });
    }
    return { path, info };
  }
}
