import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { IntegrityError, NotFoundError, UnavailableError, ValidationError } from '@loopline/errors';
import { sha256Pattern, type ArtifactStore, type LocalArtifactStore, type UploadArea } from '@loopline/artifacts';
import type { BatchInput, BatchInputSource, FetchedInput } from '../../application/batch/batch-ports';

export interface BatchInputsOptions {
  readonly featureStoreUrl: string;
  readonly ingestionUrl: string;
  /** Serving's own artifact store (`artifact://serving/sha256/…`). */
  readonly store: ArtifactStore;
  /** Set when the store is the local one: blob sizes are read from its files. */
  readonly localStore: LocalArtifactStore | undefined;
  readonly uploads: UploadArea;
  readonly maxBytes: number;
  readonly timeoutMs?: number;
}

const artifactUriPattern = /^artifact:\/\/([a-z0-9-]+)\/sha256\/([0-9a-f]{64})$/;

/**
 * Batch inputs, each fetched to serving's upload area and checked against its SHA-256 while it
 * streams: a feature-store training set (`GET /v1/training-sets/{id}/data`, the id is the
 * digest), an ingestion dataset version (`GET /v1/sources/{source}/versions/{id}/data`, digest in
 * `x-loopline-sha256`), or a blob of serving's own artifact store (e.g. an earlier job's output).
 */
export class BatchInputs implements BatchInputSource {
  constructor(private readonly options: BatchInputsOptions) {}

  async check(input: BatchInput): Promise<void> {
    switch (input.kind) {
      case 'trainingSet':
        if (!sha256Pattern.test(input.trainingSetId)) throw new ValidationError(`input.trainingSetId ${JSON.stringify(input.trainingSetId)} is not a SHA-256 (64 lowercase hex digits)`, { field: 'input.trainingSetId' });
        await this.head('the feature store', `${this.options.featureStoreUrl}/v1/training-sets/${input.trainingSetId}`, `training set ${input.trainingSetId}`);
        return;
      case 'datasetVersion':
        await this.head(
          'ingestion',
          `${this.options.ingestionUrl}/v1/sources/${encodeURIComponent(input.source)}/versions/${encodeURIComponent(input.datasetVersionId)}`,
          `dataset version ${input.datasetVersionId} of source '${input.source}'`,
        );
        return;
      case 'artifact': {
        const sha256 = this.ownSha256(input.artifactUri);
        if (!(await this.options.store.has(sha256))) throw new NotFoundError(`serving's artifact store has no ${input.artifactUri}`, { artifactUri: input.artifactUri });
        return;
      }
      default: {
        const unreachable: never = input;
        throw new Error(`unknown input ${String(unreachable)}`);
      }
    }
  }

  async fetch(input: BatchInput, onBytes: (bytes: number) => void): Promise<FetchedInput> {
    const { uploads, maxBytes } = this.options;
    let stream: NodeJS.ReadableStream;
    let expected: string;
    let what: string;
    switch (input.kind) {
      case 'trainingSet': {
        what = `training set ${input.trainingSetId}`;
        const response = await this.get('the feature store', `${this.options.featureStoreUrl}/v1/training-sets/${input.trainingSetId}/data`, what);
        stream = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
        expected = input.trainingSetId;
        break;
      }
      case 'datasetVersion': {
        what = `dataset version ${input.datasetVersionId} of source '${input.source}'`;
        const response = await this.get('ingestion', `${this.options.ingestionUrl}/v1/sources/${encodeURIComponent(input.source)}/versions/${encodeURIComponent(input.datasetVersionId)}/data`, what);
        stream = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
        expected = response.headers.get('x-loopline-sha256') ?? '';
        break;
      }
      case 'artifact': {
        what = input.artifactUri;
        expected = this.ownSha256(input.artifactUri);
        if (!this.options.localStore) throw new ValidationError('artifact inputs are read from the local artifact store only; pass a trainingSetId or datasetVersionId', { field: 'input.artifactUri' });
        const sizeBytes = (await stat(this.options.localStore.blobPath(expected)).catch(() => undefined))?.size;
        if (sizeBytes === undefined) throw new NotFoundError(`serving's artifact store has no ${input.artifactUri}`, { artifactUri: input.artifactUri });
        stream = await this.options.store.read({ sha256: expected, sizeBytes });
        break;
      }
      default: {
        const unreachable: never = input;
        throw new Error(`unknown input ${String(unreachable)}`);
      }
    }
    const received = await uploads.receive(stream, { maxBytes, what, onProgress: onBytes });
    if (expected !== '' && received.sha256 !== expected) {
      await uploads.discard(received);
      throw new IntegrityError(`${what} arrived with SHA-256 ${received.sha256}, expected ${expected}`, { expected, received: received.sha256 });
    }
    return { path: received.path, sha256: received.sha256, sizeBytes: received.sizeBytes, discard: () => uploads.discard(received) };
  }

  private ownSha256(uri: string): string {
    const match = artifactUriPattern.exec(uri);
    if (!match) throw new ValidationError(`input.artifactUri ${JSON.stringify(uri)} is not an artifact URI (artifact://serving/sha256/<64 hex>)`, { field: 'input.artifactUri' });
    if (match[1] !== 'serving') {
      throw new ValidationError(`input.artifactUri names the ${match[1]} service's artifact store, which serving does not read: pass a trainingSetId (feature store) or datasetVersionId (ingestion)`, { field: 'input.artifactUri' });
    }
    return match[2]!;
  }

  private async head(who: string, url: string, what: string): Promise<void> {
    const response = await this.call(who, url);
    await response.body?.cancel().catch(() => undefined);
    if (response.status === 404) throw new NotFoundError(`${who} has no ${what}`, { input: what });
    if (!response.ok) throw new UnavailableError(`${who} answered ${response.status} for ${what}`);
  }

  private async get(who: string, url: string, what: string): Promise<Response> {
    const response = await this.call(who, url);
    if (response.status === 404) throw new NotFoundError(`${who} has no ${what}`, { input: what });
    if (!response.ok || !response.body) throw new UnavailableError(`${who} answered ${response.status} for ${what}: ${(await response.text().catch(() => '')).slice(0, 300)}`);
    return response;
  }

  private async call(who: string, url: string): Promise<Response> {
    try {
      return await fetch(url, { signal: AbortSignal.timeout(this.options.timeoutMs ?? 30 * 60_000) });
    } catch (error) {
      throw new UnavailableError(`${who} cannot be reached (${new URL(url).origin}): ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
