// Downloads a training set's Parquet file from the feature store (`GET /v1/training-sets/{id}/data`).
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { NotFoundError, UnavailableError } from '@loopline/errors';

export function trainingSetDownloader(featureStoreUrl: string, timeoutMs = 600_000) {
  return async (trainingSetId: string, file: string): Promise<void> => {
    const url = `${featureStoreUrl}/v1/training-sets/${encodeURIComponent(trainingSetId)}/data`;
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      throw new UnavailableError(`the feature store (${featureStoreUrl}) cannot be reached: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (response.status === 404) throw new NotFoundError(`the feature store has no training set ${trainingSetId}`);
    if (!response.ok || !response.body) throw new UnavailableError(`the feature store answered ${response.status} for training set ${trainingSetId}`);
    await pipeline(Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>), createWriteStream(file));
  };
}
