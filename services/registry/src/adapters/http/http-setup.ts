// What the registry adds to the host's Fastify instance: multipart uploads (streamed; limits are
// set per request), and a guard that refuses `/v1` paths holding anything a name can never
// contain — dot segments, percent-encoding (single or double), backslashes, NUL, homoglyphs —
// with 400 before routing. Decode once, check, reject rather than repair (REFERENCE §7, SEC-1).
import multipart from '@fastify/multipart';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const apiPrefix = '/v1/';
const safeSegment = /^[A-Za-z0-9._-]+$/;

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

@Injectable()
export class RegistryHttpSetup implements OnModuleInit {
  constructor(@Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost) {}

  async onModuleInit(): Promise<void> {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    await fastify.register(multipart, { throwFileSizeLimit: false });
    fastify.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      const reason = unsafePathReason(request.raw.url ?? '');
      if (reason === undefined) return done();
      void reply.status(400).header('content-type', 'application/json; charset=utf-8').send({ error: reason, code: 'VALIDATION', details: { field: 'path' } });
    });
  }
}
