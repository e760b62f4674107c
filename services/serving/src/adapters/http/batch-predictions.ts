import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ValidationError } from '@loopline/errors';
import type { BatchJob, BatchPredictions, BatchRequest } from '../../application/batch/batch-predictions';
import type { BatchInput } from '../../application/batch/batch-ports';
import { toOipHttpError } from './oip-errors';

const jsonType = 'application/json';

/**
 * Batch inference over REST: `POST /v1/batch-predictions` → 202 `{jobId}`, and
 * `GET /v1/batch-predictions/{jobId}` → the job: phase, progress (rows done / total, rows per
 * second), then the stored output (URI, SHA-256, model version) or the named error;
 * `GET /v1/batch-predictions/{jobId}/output` streams the predictions Parquet.
 */
export function batchPredictionRoutes(batch: BatchPredictions) {
  return async function register(app: FastifyInstance): Promise<void> {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 64 * 1024 }, (_request, body, done) => done(null, body));
    app.setErrorHandler((error, _request, reply) => {
      const answer = toOipHttpError(error);
      void reply.status(answer.status).headers(answer.headers).type(jsonType).send(JSON.stringify({ error: answer.message }));
    });
    app.post('/', async (request: FastifyRequest, reply: FastifyReply) => {
      const job = await batch.submit(parseBatchRequest(request.body));
      return reply.status(202).header('location', `/v1/batch-predictions/${job.jobId}`).type(jsonType).send(JSON.stringify({ jobId: job.jobId, status: job.status, model: job.model }));
    });
    app.get('/:jobId/output', async (request: FastifyRequest<{ Params: { jobId: string } }>, reply: FastifyReply) => {
      const { job, stream } = await batch.output(request.params.jobId);
      return reply
        .type('application/vnd.apache.parquet')
        .header('content-length', String(job.output!.sizeBytes))
        .header('x-loopline-sha256', job.output!.sha256)
        .header('content-disposition', `attachment; filename="predictions-${job.output!.sha256.slice(0, 12)}.parquet"`)
        .send(stream);
    });
    app.get('/:jobId', async (request: FastifyRequest<{ Params: { jobId: string } }>, reply: FastifyReply) =>
      reply.type(jsonType).send(JSON.stringify(presentBatchJob(batch.get(request.params.jobId), Date.now()))),
    );
  };
}

export function presentBatchJob(job: BatchJob, now: number) {
  const scoringSeconds = job.scoringStartedAt === null ? 0 : ((job.finishedAt ?? now) - job.scoringStartedAt) / 1000;
  return {
    jobId: job.jobId,
    status: job.status,
    phase: job.phase,
    model: job.model,
    input: job.input,
    inputSha256: job.inputSha256,
    chunkRows: job.chunkRows,
    progress: {
      rowsDone: job.rowsDone,
      rowsTotal: job.rowsTotal,
      rowsPerSecond: scoringSeconds > 0 ? Math.round(job.rowsDone / scoringSeconds) : 0,
      bytesFetched: job.bytesFetched,
      elapsedSeconds: job.startedAt === null ? 0 : ((job.finishedAt ?? now) - job.startedAt) / 1000,
    },
    keyColumns: job.keyColumns,
    output: job.output,
    error: job.error,
    createdAt: new Date(job.createdAt).toISOString(),
    startedAt: job.startedAt === null ? null : new Date(job.startedAt).toISOString(),
    finishedAt: job.finishedAt === null ? null : new Date(job.finishedAt).toISOString(),
  };
}

function parseBatchRequest(raw: unknown): BatchRequest {
  if (!Buffer.isBuffer(raw) || raw.length === 0) throw new ValidationError('the request has no body: send {"model": ..., "input": {...}}');
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw new ValidationError(`the body is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!isObject(body)) throw new ValidationError('the body must be a JSON object: {"model", "version"? | "alias"?, "input": {...}, "chunkRows"?}');
  const unknown = Object.keys(body).filter((key) => !['model', 'version', 'alias', 'input', 'chunkRows'].includes(key));
  if (unknown.length > 0) throw new ValidationError(`unknown field(s) ${unknown.join(', ')}; allowed: model, version, alias, input, chunkRows`, { fields: unknown });
  if (typeof body.model !== 'string' || body.model === '') throw new ValidationError('model must be the name of a registered model', { field: 'model' });
  if (body.version !== undefined && (typeof body.version !== 'number' || !Number.isSafeInteger(body.version) || body.version < 1)) {
    throw new ValidationError('version must be a positive integer', { field: 'version' });
  }
  if (body.alias !== undefined && (typeof body.alias !== 'string' || body.alias === '')) throw new ValidationError('alias must be a non-empty string', { field: 'alias' });
  if (body.version !== undefined && body.alias !== undefined) throw new ValidationError('give version or alias, not both', { field: 'alias' });
  if (body.chunkRows !== undefined && typeof body.chunkRows !== 'number') throw new ValidationError('chunkRows must be a number', { field: 'chunkRows' });
  return { model: body.model, version: body.version as number | undefined, alias: body.alias as string | undefined, input: parseInput(body.input), chunkRows: body.chunkRows as number | undefined };
}

function parseInput(input: unknown): BatchInput {
  const shape = 'input must be one of {"trainingSetId"}, {"datasetVersionId", "source"} or {"artifactUri"}';
  if (!isObject(input)) throw new ValidationError(shape, { field: 'input' });
  const keys = Object.keys(input).sort().join(',');
  const text = (field: string): string => {
    const value = input[field];
    if (typeof value !== 'string' || value === '') throw new ValidationError(`input.${field} must be a non-empty string`, { field: `input.${field}` });
    return value;
  };
  if (keys === 'trainingSetId') return { kind: 'trainingSet', trainingSetId: text('trainingSetId') };
  if (keys === 'datasetVersionId,source') return { kind: 'datasetVersion', datasetVersionId: text('datasetVersionId'), source: text('source') };
  if (keys === 'datasetVersionId') throw new ValidationError('input.source is needed with input.datasetVersionId (the ingestion data source it belongs to)', { field: 'input.source' });
  if (keys === 'artifactUri') return { kind: 'artifact', artifactUri: text('artifactUri') };
  throw new ValidationError(`${shape}; received the fields ${keys || 'none'}`, { field: 'input' });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
