import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiProduces, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ValidationError } from '@loopline/errors';
import { OrchestrationApplication } from '../../application/orchestration-application';
import { errorSchema, lineageSchema, logsSchema, runListSchema, runSchema } from './openapi-schemas';
import { cancelBody, contextFrom, parseBody, positiveInteger, type Headers as RequestHeaders } from './requests';

const runStatuses = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];

@ApiTags('runs')
@Controller('v1/runs')
export class RunsController {
  constructor(@Inject(OrchestrationApplication) private readonly application: OrchestrationApplication) {}

  @Get()
  @ApiOperation({ summary: 'List runs, newest first' })
  @ApiQuery({ name: 'pipeline', required: false })
  @ApiQuery({ name: 'status', required: false, enum: runStatuses })
  @ApiQuery({ name: 'limit', required: false })
  @ApiResponse({ status: 200, schema: runListSchema })
  async list(@Query('pipeline') pipeline?: string, @Query('status') status?: string, @Query('limit') limit?: string) {
    if (status !== undefined && !runStatuses.includes(status)) throw new ValidationError(`status must be one of ${runStatuses.join(', ')}`, { field: 'status' });
    return { runs: await this.application.listRuns({ pipelineName: pipeline || undefined, status, limit: positiveInteger(limit, 'limit') }) };
  }

  @Get(':id')
  @ApiOperation({
    summary: 'Read a run with its tasks and attempts',
    description: 'Long poll: with `afterRevision`, answers once the run changed past that revision, or after `waitMs` (default 30000, at most 60000) with the run as it is.',
  })
  @ApiQuery({ name: 'afterRevision', required: false })
  @ApiQuery({ name: 'waitMs', required: false })
  @ApiResponse({ status: 200, schema: runSchema })
  @ApiResponse({ status: 404, schema: errorSchema })
  async get(@Param('id') id: string, @Query('afterRevision') afterRevision?: string, @Query('waitMs') waitMs?: string) {
    const after = positiveInteger(afterRevision, 'afterRevision');
    if (after === undefined) return this.application.getRun(id);
    return this.application.waitForRun(id, after, positiveInteger(waitMs, 'waitMs') ?? 30_000);
  }

  @Get(':id/events')
  @ApiOperation({ summary: 'Watch a run (Server-Sent Events)', description: 'An `event: run` with the whole run at once and after every change; the stream ends when the run does.' })
  @ApiProduces('text/event-stream')
  @ApiResponse({ status: 200, description: 'text/event-stream of `run` events (data: the run as JSON)' })
  async watch(@Param('id') id: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    let run = await this.application.getRun(id);
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const closed = new AbortController();
    request.raw.on('close', () => closed.abort());
    const send = () => raw.write(`event: run\nid: ${run.revision}\ndata: ${JSON.stringify(run)}\n\n`);
    send();
    try {
      while (!closed.signal.aborted && (run.status === 'running' || run.status === 'queued')) {
        const next = await this.application.waitForRun(id, run.revision, 15_000, closed.signal);
        if (next.revision !== run.revision) {
          run = next;
          send();
        } else raw.write(': keep-alive\n\n');
      }
    } finally {
      raw.end();
    }
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel a queued or running run' })
  @ApiBody({ schema: { type: 'object', properties: { reason: { type: 'string' } } } })
  @ApiResponse({ status: 200, schema: runSchema })
  @ApiResponse({ status: 404, schema: errorSchema })
  @ApiResponse({ status: 409, description: 'the run has ended already', schema: errorSchema })
  async cancel(@Param('id') id: string, @Body() body: unknown, @Headers() headers: RequestHeaders) {
    const input = parseBody(cancelBody, body, 'cancellation');
    return this.application.cancelRun(id, input.reason, contextFrom(headers));
  }

  @Get(':id/tasks/:taskId/logs')
  @ApiOperation({ summary: "A task's logs, by attempt" })
  @ApiQuery({ name: 'attempt', required: false })
  @ApiResponse({ status: 200, schema: logsSchema })
  @ApiResponse({ status: 404, schema: errorSchema })
  async logs(@Param('id') id: string, @Param('taskId') taskId: string, @Query('attempt') attempt?: string) {
    return { attempts: await this.application.taskLogs(id, taskId, positiveInteger(attempt, 'attempt')) };
  }
}

@ApiTags('lineage')
@Controller('v1/lineage')
export class LineageController {
  constructor(@Inject(OrchestrationApplication) private readonly application: OrchestrationApplication) {}

  @Get()
  @ApiOperation({ summary: 'Everything upstream and downstream of an artifact, as recorded by runs', description: 'artifact: a dataset version id, a training set id, or a model version `name:version`.' })
  @ApiQuery({ name: 'artifact', required: true })
  @ApiResponse({ status: 200, schema: lineageSchema })
  @ApiResponse({ status: 404, schema: errorSchema })
  lineage(@Query('artifact') artifact?: string) {
    if (artifact === undefined) throw new ValidationError('the "artifact" query parameter is required', { field: 'artifact' });
    return this.application.lineage(artifact);
  }
}
