import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Put } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { RegistryApplication } from '../../application/registry-application';
import { actorHeader } from './request-context';
import { createModelSchema, errorSchema, historySchema, modelListSchema, modelSchema, policySchema } from './openapi-schemas';
import { presentHistoryEvent, presentModel, presentSummary } from './presenters';
import { contextWithActor, type Headers as RequestHeaders } from './http-context';
import { createModelBody, parseBody, policyBody, toPolicy } from './request-schemas';

@ApiTags('models')
@ApiHeader({ name: actorHeader, required: false, description: 'who acts, e.g. user:alice; "anonymous" when absent' })
@Controller('v1/models')
export class ModelsController {
  constructor(@Inject(RegistryApplication) private readonly registry: RegistryApplication) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a registered model' })
  @ApiBody({ schema: createModelSchema })
  @ApiResponse({ status: 201, schema: modelSchema })
  @ApiResponse({ status: 400, description: 'invalid name or fields', schema: errorSchema })
  @ApiResponse({ status: 409, description: 'the model exists already', schema: errorSchema })
  async create(@Body() body: unknown, @Headers() headers: RequestHeaders) {
    const input = parseBody(createModelBody, body, 'model');
    const model = await this.registry.createModel(
      { name: input.name, description: input.description, owner: input.owner, tags: input.tags },
      contextWithActor(headers, input.actor),
    );
    return presentModel(model);
  }

  @Get()
  @ApiOperation({ summary: 'List registered models', description: 'Eventually consistent: trails writes by a poll interval (~50 ms).' })
  @ApiResponse({ status: 200, schema: modelListSchema })
  async list() {
    return { models: (await this.registry.listModels()).map(presentSummary) };
  }

  @Get(':name')
  @ApiOperation({ summary: 'Read a registered model with its aliases and latest version' })
  @ApiParam({ name: 'name' })
  @ApiResponse({ status: 200, schema: modelSchema })
  @ApiResponse({ status: 404, schema: errorSchema })
  async get(@Param('name') name: string) {
    return presentModel(await this.registry.getModel(name));
  }

  @Get(':name/history')
  @ApiOperation({ summary: 'Every event of a model, oldest first' })
  @ApiResponse({ status: 200, schema: historySchema })
  @ApiResponse({ status: 404, schema: errorSchema })
  async history(@Param('name') name: string) {
    return { events: (await this.registry.history(name)).map(presentHistoryEvent) };
  }

  @Put(':name/promotion-policy')
  @ApiOperation({ summary: "Set the model's promotion policy (value and change thresholds per metric)" })
  @ApiBody({ schema: policySchema })
  @ApiResponse({ status: 200, schema: policySchema })
  @ApiResponse({ status: 400, schema: errorSchema })
  @ApiResponse({ status: 404, schema: errorSchema })
  async setPolicy(@Param('name') name: string, @Body() body: unknown, @Headers() headers: RequestHeaders) {
    const input = parseBody(policyBody, body, 'promotion policy');
    return this.registry.setPolicy(name, toPolicy(input), contextWithActor(headers, input.actor));
  }

  @Get(':name/promotion-policy')
  @ApiOperation({ summary: "Read the model's promotion policy" })
  @ApiResponse({ status: 200, schema: policySchema })
  @ApiResponse({ status: 404, schema: errorSchema })
  getPolicy(@Param('name') name: string) {
    return this.registry.getPolicy(name);
  }
}
