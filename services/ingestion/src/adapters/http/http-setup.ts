// What the ingestion service adds to the host's Fastify instance:
// - uploads stream: the body of `POST /v1/sources/{source}/uploads` is never parsed or buffered
//   by Fastify, whatever its content type (raw CSV, JSON Lines or Parquet bytes); the controller
//   writes it to disk as it arrives. Multipart uploads stream too (@fastify/multipart).
// - other JSON bodies are parsed with a 16 MiB limit (schemas with many categories are large).
// - a guard refuses `/v1` paths holding anything a name or id never contains (dot segments,
//   percent-encoding, backslashes, NUL, non-ASCII) with 400 before routing.
import multipart from '@fastify/multipart';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const apiPrefix = '/v1/';
const safeSegment = /^[A-Za-z0-9._-]+$/;
const uploadRoute = /^\/v1\/sources\/[^/?]+\/uploads\/?(\?|$)/;
const jsonBodyLimit = 16 * 1024 * 1024;

/** Why a `/v1` request path is refused, or undefined when it is acceptable. */
export function unsafePathReason(rawUrl: string): string | undefined {
  const path = rawUrl.split('?')[0]!;
  if (!path.startsWith(apiPrefix)) return undefined;
  const segments = path.slice(1).split('/');
  if (segments.at(-1) === '') segments.pop();
  for (const segment of segments) {
    if (segment === '.' || segment === '..') return 'the URL path contains a dot segment ("." or ".."): names never do, and paths are not resolved';
    if (!safeSegment.test(segment)) {
      return 'the URL path contains characters outside A-Z, a-z, 0-9, ".", "_" and "-" (percent-encoding, backslashes, NUL and non-ASCII are refused): names never contain them';
    }
  }
  return undefined;
}

export function isUploadRoute(rawUrl: string): boolean {
  return uploadRoute.test(rawUrl);
}

@Injectable()
export class IngestionHttpSetup implements OnModuleInit {
  constructor(@Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost) {}

  async onModuleInit(): Promise<void> {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    await fastify.register(multipart, { throwFileSizeLimit: false });
    // Everything that is not JSON or multipart reaches the controller as the unread request stream.
    const passThrough = (_request: FastifyRequest, payload: NodeJS.ReadableStream, done: (error: Error | null, body?: unknown) => void) => done(null, payload);
    fastify.removeContentTypeParser(['text/plain']);
    fastify.addContentTypeParser('*', passThrough);
    fastify.removeContentTypeParser(['application/json']);
    fastify.addContentTypeParser('application/json', (request: FastifyRequest, payload: NodeJS.ReadableStream, done: (error: Error | null, body?: unknown) => void) => {
      if (isUploadRoute(request.raw.url ?? '')) return done(null, payload);
      void readJson(payload).then(
        (body) => done(null, body),
        (error: Error) => done(error),
      );
    });
    fastify.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      const reason = unsafePathReason(request.raw.url ?? '');
      if (reason === undefined) return done();
      void reply.status(400).header('content-type', 'application/json; charset=utf-8').send({ error: reason, code: 'VALIDATION', details: { field: 'path' } });
    });
  }
}

async function readJson(payload: NodeJS.ReadableStream): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of payload) {
    size += (chunk as Buffer).length;
    if (size > jsonBodyLimit) throw Object.assign(new Error(`the JSON body is larger than ${jsonBodyLimit} bytes`), { statusCode: 413 });
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw Object.assign(new Error(`the body is not valid JSON: ${(error as Error).message}`), { statusCode: 400 });
  }
}
