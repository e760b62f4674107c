// What the training service adds to the host's Fastify instance: raw bodies for artifact uploads
// (`PUT /v1/runs/{runId}/artifacts/{name}` with any non-JSON content type), up to 256 MiB.
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';

@Injectable()
export class TrainingHttpSetup implements OnModuleInit {
  constructor(@Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.addContentTypeParser(['application/octet-stream', 'application/x-onnx', 'text/csv'], { parseAs: 'buffer', bodyLimit: 256 * 1024 * 1024 }, (_request, body, done) => done(null, body));
  }
}
