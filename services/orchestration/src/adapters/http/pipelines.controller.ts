import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { OrchestrationApplication } from '../../application/orchestration-application';
import type { PipelineRow } from '../../application/ports';
import { OrchestrationBackground } from '../kafka/orchestration-background';
import { applyResponseSchema, definitionRequestSchema, errorSchema, pipelineSchema, runSchema, startRunSchema, validateResponseSchema } from './openapi-schemas';
import { actorHeader, contextFrom, documentFromBody, parseBody, positiveInteger, startRunBody, type Headers as RequestHeaders } from './requests';

export function presentPipeline(row: PipelineRow & { readonly versions?: unknown }) {
  return {
    name: row.name,
    version: row.version,
    definitionHash: row.definitionHash,
    description: row.definition.description,
    params: row.definition.params,
    steps: row.definition.steps.map((step) => ({ id: step.id, kind: step.kind, dependsOn: step.dependsOn })),
    triggers: row.definition.triggers,
    definition: row.definition,
    document: row.document,
    appliedBy: row.appliedBy,
    appliedAt: row.appliedAt,
    ...(row.versions === undefined ? {} : { versions: row.versions }),
  };
}

@ApiTags('pipelines')
@ApiHeader({ name: actorHeader, required: false, description: 'who acts, e.g. user:alice; "anonymous" when absent' })
@Controller('v1/pipelines')
export class PipelinesController {
  constructor(
    @Inject(OrchestrationApplication) private readonly application: OrchestrationApplication,
    @Inject(OrchestrationBackground) private readonly background: OrchestrationBackground,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Apply a pipeline definition', description: 'A new version when it differs from the latest (201), nothing when identical (200).' })
  @ApiBody({ schema: definitionRequestSchema })
  @ApiResponse({ status: 201, schema: applyResponseSchema })
  @ApiResponse({ status: 200, schema: applyResponseSchema })
  @ApiResponse({ status: 400, description: 'invalid definition: every problem with its exact place', schema: errorSchema })
  async apply(@Body() body: unknown, @Headers() headers: RequestHeaders, @Res({ passthrough: true }) reply: FastifyReply) {
    const { pipeline, changed } = await this.application.applyPipeline(documentFromBody(body), contextFrom(headers));
    if (changed) await this.background.pipelinesChanged();
    void reply.status(changed ? 201 : 200);
    return { pipeline: presentPipeline(pipeline), changed };
  }

  @Post('validate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Check a pipeline definition without applying it' })
  @ApiBody({ schema: definitionRequestSchema })
  @ApiResponse({ status: 200, schema: validateResponseSchema })
  validate(@Body() body: unknown) {
    const { valid, problems } = this.application.validate(documentFromBody(body));
    return { valid, problems };
  }

  @Get()
  @ApiOperation({ summary: 'List pipelines (latest versions)' })
  @ApiResponse({ status: 200, schema: { type: 'object', properties: { pipelines: { type: 'array', items: pipelineSchema } } } })
  async list() {
    return { pipelines: (await this.application.listPipelines()).map(presentPipeline) };
  }

  @Get(':name')
  @ApiOperation({ summary: 'Read a pipeline: the latest version, or ?version=N; with the list of its versions' })
  @ApiQuery({ name: 'version', required: false })
  @ApiResponse({ status: 200, schema: pipelineSchema })
  @ApiResponse({ status: 404, schema: errorSchema })
  async get(@Param('name') name: string, @Query('version') version?: string) {
    return presentPipeline(await this.application.getPipeline(name, positiveInteger(version, 'version')));
  }

  @Get(':name/trigger-decisions')
  @ApiOperation({ summary: "What the pipeline's triggers decided for each event or schedule tick (started, queued, skipped and why), newest first" })
  @ApiQuery({ name: 'limit', required: false })
  @ApiResponse({ status: 200, schema: { type: 'object', properties: { decisions: { type: 'array', items: { type: 'object', additionalProperties: true } } } } })
  @ApiResponse({ status: 404, schema: errorSchema })
  async triggerDecisions(@Param('name') name: string, @Query('limit') limit?: string) {
    return { decisions: await this.application.triggerDecisions(name, Math.min(positiveInteger(limit, 'limit') ?? 100, 1000)) };
  }

  @Post(':name/runs')
  @HttpCode(201)
  @ApiOperation({ summary: 'Start a run by hand (trigger MANUAL)' })
  @ApiBody({ schema: startRunSchema })
  @ApiResponse({ status: 201, schema: runSchema })
  @ApiResponse({ status: 400, description: 'unknown or mistyped parameter', schema: errorSchema })
  @ApiResponse({ status: 404, schema: errorSchema })
  async start(@Param('name') name: string, @Body() body: unknown, @Headers() headers: RequestHeaders) {
    const input = parseBody(startRunBody, body, 'run');
    return this.application.startRun(name, { params: input.params as never, version: input.version, requestId: input.requestId }, contextFrom(headers));
  }
}
