// Training sets from the feature store's REST API: `GET /v1/training-sets/{id}` describes one
// (row count, recipe), `GET /v1/training-sets/{id}/data` streams its Parquet, which is hashed while
// it is written and refused unless its SHA-256 is the id.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { IntegrityError, NotFoundError, UnavailableError, ValidationError } from '@loopline/errors';
import type { TrainingSetInfo, TrainingSetSource } from '../../application/ports';

const idPattern = /^[0-9a-f]{64}$/;

interface RecipeJson {
  readonly entities?: { readonly versionId?: string; readonly eventTimeColumn?: string };
  readonly features?: readonly { readonly column?: string }[];
  readonly views?: readonly { readonly view?: string; readonly version?: number; readonly datasetVersionId?: string | null }[];
}

export class HttpTrainingSetSource implements TrainingSetSource {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 60_000,
  ) {}

  async describe(id: string): Promise<TrainingSetInfo> {
    assertId(id);
    const response = await this.fetch(`/v1/training-sets/${id}`, id);
    const body = (await response.json()) as { id?: string; rowCount?: number; recipe?: RecipeJson };
    const recipe = body.recipe ?? {};
    const datasetVersionIds = [recipe.entities?.versionId, ...(recipe.views ?? []).map((view) => view.datasetVersionId)].filter((value): value is string => typeof value === 'string' && value !== '');
    return {
      id,
      rowCount: Number(body.rowCount ?? 0),
      datasetVersionIds: [...new Set(datasetVersionIds)],
      featureViews: (recipe.views ?? []).filter((view) => typeof view.view === 'string').map((view) => ({ viewName: view.view!, viewVersion: Number(view.version ?? 0) })),
      featureColumns: (recipe.features ?? []).map((feature) => feature.column).filter((column): column is string => typeof column === 'string'),
      eventTimeColumn: recipe.entities?.eventTimeColumn ?? null,
    };
  }

  async download(id: string, path: string): Promise<void> {
    assertId(id);
    const response = await this.fetch(`/v1/training-sets/${id}/data`, id);
    if (!response.body) throw new UnavailableError(`the feature store sent no data for training set ${id}`);
    const hash = createHash('sha256');
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        callback(null, chunk);
      },
    });
    try {
      await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), meter, createWriteStream(path, { flags: 'wx', mode: 0o600 }));
    } catch (error) {
      await rm(path, { force: true });
      throw new UnavailableError(`downloading training set ${id} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    const digest = hash.digest('hex');
    if (digest !== id) {
      await rm(path, { force: true });
      throw new IntegrityError(`training set ${id} arrived with SHA-256 ${digest}`, { id, received: digest });
    }
  }

  private async fetch(path: string, id: string): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw new UnavailableError(`the feature store (${this.baseUrl}) cannot be reached: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (response.status === 404) throw new NotFoundError(`the feature store has no training set ${id}`, { trainingSetId: id });
    if (!response.ok) throw new UnavailableError(`the feature store answered ${response.status} for training set ${id}: ${(await response.text()).slice(0, 500)}`);
    return response;
  }
}

function assertId(id: string): void {
  if (!idPattern.test(id)) throw new ValidationError(`training set id ${JSON.stringify(id)} is not a SHA-256 (64 lowercase hex digits)`, { field: 'trainingSetId' });
}
