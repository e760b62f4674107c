import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { performance } from 'node:perf_hooks';
import { ValidationError } from '@loopline/errors';
import type { EntityPredictResult, InferenceService } from '../../application/inference-service';
import { nestedValues } from '../../domain/tensor/encode-outputs';
import type { Tensor } from '../../domain/tensor/tensor';
import { ServingError } from '../../application/serving-error';
import { toOipHttpError } from './oip-errors';

export interface EntityPredictionRoutesOptions {
  readonly inference: InferenceService;
  readonly maxBodyBytes: number;
}

interface ModelParams {
  readonly name: string;
  readonly version?: string;
}

const jsonType = 'application/json';
const allowedFields = new Set(['id', 'entities', 'features', 'featureService']);

/**
 * `POST /v1/models/{name}/predict` and `/v1/models/{name}/versions/{v}/predict`: predictions by
 * entity, online features joined by serving. A Fastify plugin of its own (registered under
 * `/v1/models`) so its answers and errors have the OIP routes' shape (`{"error": "..."}`) and no
 * Nest pipeline runs on the request path.
 */
export function entityPredictionRoutes(options: EntityPredictionRoutesOptions) {
  return async function register(app: FastifyInstance): Promise<void> {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: options.maxBodyBytes }, (_request, body, done) => done(null, body));
    app.setErrorHandler((error, _request, reply) => {
      const answer = toOipHttpError(error);
      void reply.status(answer.status).headers(answer.headers).type(jsonType).send(JSON.stringify({ error: answer.message }));
    });

    const predict = async (request: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) => {
      const receivedAt = performance.timeOrigin + performance.now();
      const body = parseBody(request.body, request.headers['content-type']);
      let cancelled = false;
      reply.raw.once('close', () => {
        cancelled = !reply.raw.writableEnded;
      });
      const result = await options.inference.predictByEntity({
        modelName: request.params.name,
        modelVersion: request.params.version,
        id: body.id,
        entities: body.entities,
        features: body.features,
        featureService: body.featureService,
        isCancelled: () => cancelled,
        receivedAt,
      });
      return reply.type(jsonType).send(JSON.stringify(presentEntityPrediction(result)));
    };
    app.post('/:name/predict', predict);
    app.post('/:name/versions/:version/predict', predict);
  };
}

/** The REST answer of a prediction by entity (the agreed shape). */
export function presentEntityPrediction(result: EntityPredictResult) {
  return {
    predictionId: result.predictionId,
    modelName: result.modelName,
    modelVersion: result.modelVersion,
    trafficRole: result.role,
    outputs: Object.fromEntries(result.outputs.map((output) => [output.name, rowValue(output)])),
    features: result.features,
  };
}

/** One row's value of an output: a scalar where the row holds one element, else the row nested by the remaining dimensions. */
export function rowValue(output: Tensor): unknown {
  const rest = output.shape.slice(1);
  const nested = nestedValues({ ...output, shape: rest.length === 0 ? [output.shape[0] ?? 1] : rest });
  const size = rest.reduce((product, dim) => product * dim, 1);
  if (size === 1) {
    let value: unknown = nested;
    while (Array.isArray(value)) value = value[0];
    return value ?? null;
  }
  return nested;
}

interface PredictBody {
  readonly id?: string;
  readonly entities: Record<string, string>;
  readonly features: Record<string, unknown>;
  readonly featureService?: string;
}

function parseBody(raw: unknown, contentType: string | undefined): PredictBody {
  if (contentType !== undefined && contentType.split(';')[0]!.trim().toLowerCase() !== jsonType) {
    throw new ServingError('UNSUPPORTED', `unsupported content type '${contentType}': send application/json`);
  }
  if (!Buffer.isBuffer(raw) || raw.length === 0) throw new ValidationError('the request has no body: send {"entities": {...}, "features"?: {...}}');
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw new ValidationError(`the body is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  return parsePredictBody(body);
}

/** Checks a predict-by-entity body; each error names the field. */
export function parsePredictBody(body: unknown): PredictBody {
  if (!isObject(body)) throw new ValidationError('the body must be a JSON object: {"entities": {...}, "features"?: {...}, "featureService"?: "...", "id"?: "..."}');
  const unknown = Object.keys(body).filter((key) => !allowedFields.has(key));
  if (unknown.length > 0) throw new ValidationError(`unknown field(s) ${unknown.map((key) => `'${key}'`).join(', ')}; allowed: id, entities, features, featureService`, { fields: unknown });
  if (body.id !== undefined && typeof body.id !== 'string') throw new ValidationError('id must be a string', { field: 'id' });
  if (body.featureService !== undefined && (typeof body.featureService !== 'string' || body.featureService === '')) {
    throw new ValidationError('featureService must be a non-empty string', { field: 'featureService' });
  }
  if (!isObject(body.entities)) throw new ValidationError('entities must be an object of join key → value, e.g. {"origin": "ATL"}', { field: 'entities' });
  const entities: Record<string, string> = {};
  for (const [key, value] of Object.entries(body.entities)) {
    if (typeof value === 'string') entities[key] = value;
    else if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') entities[key] = String(value);
    else throw new ValidationError(`entities.${key} must be a string or a number, received ${JSON.stringify(value)}`, { field: `entities.${key}` });
  }
  if (body.features !== undefined && !isObject(body.features)) throw new ValidationError('features must be an object of input name → value', { field: 'features' });
  const features = (body.features ?? {}) as Record<string, unknown>;
  for (const [name, value] of Object.entries(features)) {
    if (!isFeatureValue(value)) throw new ValidationError(`features.${name} must be a number, string, boolean, null or a list of them`, { field: `features.${name}` });
  }
  return { id: body.id, entities, features, featureService: body.featureService };
}

function isFeatureValue(value: unknown): boolean {
  if (value === null || typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return true;
  return Array.isArray(value) && value.every(isFeatureValue);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
