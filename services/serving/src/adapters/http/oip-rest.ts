import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { performance } from 'node:perf_hooks';
import type { InferenceService } from '../../application/inference-service';
import type { ModelMetadataQueries } from '../../application/model-metadata';
import { ServingError } from '../../application/serving-error';
import { toOipHttpError } from './oip-errors';
import { encodeInferResponse, inferenceHeaderLength, parseInferRequest } from './oip-json-codec';

export interface OipRestOptions {
  readonly inference: InferenceService;
  readonly metadata: ModelMetadataQueries;
  /** Largest request body; larger ones get 413. */
  readonly maxBodyBytes: number;
}

interface ModelParams {
  readonly name: string;
  readonly version?: string;
}

const jsonType = 'application/json';

/**
 * The Open Inference Protocol REST API under `/v2`, as a Fastify plugin of its own: its own body
 * parsing (any content type is read as bytes, up to `maxBodyBytes`; JSON and the binary tensor data
 * extension are decoded here), its own error answers (`{"error": "..."}` with the protocol's
 * statuses), no Nest pipeline on the hot path. Registered under the prefix `/v2`.
 */
export function oipRestPlugin(options: OipRestOptions) {
  return async function register(app: FastifyInstance): Promise<void> {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: options.maxBodyBytes }, (_request, body, done) => done(null, body));

    app.setErrorHandler((error, _request, reply) => {
      const answer = toOipHttpError(error);
      void reply.status(answer.status).headers(answer.headers).type(jsonType).send(JSON.stringify({ error: answer.message }));
    });
    app.setNotFoundHandler((request, reply) => {
      void reply.status(404).type(jsonType).send(JSON.stringify({ error: `no route ${request.method} ${request.url.split('?')[0]}` }));
    });

    app.get('/health/live', async (_request, reply) => reply.type(jsonType).send('{"live":true}'));
    app.get('/health/ready', async (_request, reply) => {
      const ready = options.metadata.serverReady();
      return reply.status(ready ? 200 : 503).type(jsonType).send(JSON.stringify({ ready }));
    });
    app.get('/', async (_request, reply) => reply.type(jsonType).send(JSON.stringify(options.metadata.serverMetadata())));

    const metadata = async (request: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) =>
      reply.type(jsonType).send(JSON.stringify(options.metadata.modelMetadata(request.params.name, request.params.version)));
    app.get('/models/:name', metadata);
    app.get('/models/:name/versions/:version', metadata);

    const ready = async (request: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) => {
      const { name, version } = request.params;
      const readiness = options.metadata.modelReadiness(name, version);
      if (readiness === 'unknown') {
        return reply.status(404).type(jsonType).send(JSON.stringify({ error: version ? `model '${name}' has no version '${version}' served here` : `unknown model '${name}'` }));
      }
      return reply.status(readiness === 'ready' ? 200 : 503).type(jsonType).send(JSON.stringify({ name, ready: readiness === 'ready' }));
    };
    app.get('/models/:name/ready', ready);
    app.get('/models/:name/versions/:version/ready', ready);

    const infer = async (request: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) => {
      const receivedAt = performance.timeOrigin + performance.now();
      const body = request.body;
      const headerLength = headerValue(request.headers[inferenceHeaderLength]);
      checkContentType(headerValue(request.headers['content-type']), headerLength !== undefined);
      if (request.headers['content-encoding'] !== undefined && request.headers['content-encoding'] !== 'identity') {
        throw new ServingError('UNSUPPORTED', `Content-Encoding ${request.headers['content-encoding']} is not supported; send the body uncompressed`);
      }
      if (!Buffer.isBuffer(body) || body.length === 0) throw new ServingError('UNSUPPORTED', 'the request has no body: send the inference request as JSON');
      const parsed = parseInferRequest(body, headerLength);
      // The response closing before it was written means the client went away: drop the job if still queued.
      let cancelled = false;
      reply.raw.once('close', () => {
        cancelled = !reply.raw.writableEnded;
      });
      const result = await options.inference.infer({
        modelName: request.params.name,
        modelVersion: request.params.version,
        id: parsed.id,
        inputs: parsed.inputs,
        outputs: parsed.outputs,
        deadline: parsed.timeoutMicros === undefined ? undefined : receivedAt + parsed.timeoutMicros / 1000,
        isCancelled: () => cancelled,
        receivedAt,
      });
      const encoded = encodeInferResponse(result, parsed.id !== undefined && parsed.id !== '', parsed.binaryOutputs);
      if (encoded.headerLength === undefined) return reply.type(jsonType).send(encoded.body);
      return reply.header('Inference-Header-Content-Length', String(encoded.headerLength)).type('application/octet-stream').send(encoded.body);
    };
    app.post('/models/:name/infer', infer);
    app.post('/models/:name/versions/:version/infer', infer);
  };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * JSON requests may come with `application/json` or with no content type at all (tritonclient
 * sends none); binary tensor data comes as `application/octet-stream` (or none) with the
 * Inference-Header-Content-Length header. Anything else is refused, naming what to send.
 */
function checkContentType(contentType: string | undefined, binary: boolean): void {
  if (contentType === undefined) return;
  const mediaType = contentType.split(';')[0].trim().toLowerCase();
  if (mediaType === jsonType || (binary && mediaType === 'application/octet-stream')) return;
  throw new ServingError(
    'UNSUPPORTED',
    `unsupported content type '${contentType}': send application/json, or application/octet-stream with the Inference-Header-Content-Length header (binary tensor data extension)`,
  );
}
