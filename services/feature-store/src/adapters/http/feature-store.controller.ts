// The REST API under `/v1`: definitions (plan, apply, read), materializations, training sets,
// online features and push. The gRPC API serves online reads and pushes too.
import { randomUUID } from 'node:crypto';
import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { NotFoundError } from '@loopline/errors';
import { viewVersion } from '../../domain/definitions/catalog';
import { DefinitionsApplication, type RequestContext } from '../../application/definitions';
import { Materializer } from '../../application/materialization';
import { OnlineFeatures } from '../../application/online-features';
import { TrainingSets } from '../../application/training-sets';
import { MATERIALIZATION_LOG } from '../tokens';
import type { MaterializationLog } from '../../application/ports';
import { onlineFeaturesJson } from '../online-wire';
import { catalogJson, materializationJson, planJson, trainingSetJson, viewJson } from './presenters';
import { definitionsFileBody, materializeBody, parseBody, parseOnlineFeaturesBody, pushBody, trainingSetBody } from './request-schemas';

const actorPattern = /^[a-z]+:[\x21-\x7e]{1,200}$/;

export function contextOf(actor: string | undefined, correlation: string | undefined): RequestContext {
  return {
    actor: actor && actorPattern.test(actor) ? actor : 'anonymous',
    correlationId: correlation && /^[\x21-\x7e]{1,200}$/.test(correlation) ? correlation : randomUUID(),
  };
}

@Controller('v1')
export class FeatureStoreController {
  constructor(
    @Inject(DefinitionsApplication) private readonly definitions: DefinitionsApplication,
    @Inject(Materializer) private readonly materializer: Materializer,
    @Inject(OnlineFeatures) private readonly online: OnlineFeatures,
    @Inject(TrainingSets) private readonly trainingSets: TrainingSets,
    @Inject(MATERIALIZATION_LOG) private readonly log: MaterializationLog,
  ) {}

  @Post('definitions/plan')
  @HttpCode(200)
  async plan(@Body() body: unknown) {
    const { file, fileName } = parseBody(definitionsFileBody, body);
    return planJson(await this.definitions.plan(file, fileName), false);
  }

  @Post('definitions/apply')
  @HttpCode(200)
  async apply(@Body() body: unknown, @Headers('x-loopline-actor') actor?: string, @Headers('x-correlation-id') correlation?: string) {
    const { file, fileName } = parseBody(definitionsFileBody, body);
    return planJson(await this.definitions.apply(file, fileName, contextOf(actor, correlation)), true);
  }

  @Get('definitions')
  async catalog() {
    return catalogJson(await this.definitions.catalog());
  }

  @Get('feature-views/:name')
  async featureView(@Param('name') name: string) {
    const versions = (await this.definitions.catalog()).featureViews.get(name);
    if (!versions) throw new NotFoundError(`unknown feature view "${name}"`, { view: name });
    return { name, versions: versions.map(viewJson) };
  }

  @Get('feature-views/:name/versions/:version')
  async featureViewVersion(@Param('name') name: string, @Param('version') version: string) {
    const view = viewVersion(await this.definitions.catalog(), name, Number(version));
    if (!view) throw new NotFoundError(`feature view "${name}" has no version ${version}`, { view: name, version });
    return viewJson(view);
  }

  @Post('materializations')
  @HttpCode(200)
  async materialize(@Body() body: unknown) {
    return materializationJson(await this.materializer.materialize(parseBody(materializeBody, body)));
  }

  @Get('materializations')
  async materializations(@Query('view') view?: string, @Query('limit') limit?: string) {
    const records = await this.log.list({ view, limit: Math.min(Math.max(Number(limit) || 50, 1), 500) });
    return { materializations: records.map(materializationJson) };
  }

  @Get('materializations/:id')
  async materialization(@Param('id') id: string) {
    const record = await this.log.get(id);
    if (!record) throw new NotFoundError(`unknown materialization "${id}"`, { id });
    return materializationJson(record);
  }

  @Post('online-features')
  @HttpCode(200)
  async onlineFeatures(@Body() body: unknown) {
    return onlineFeaturesJson(await this.online.get(parseOnlineFeaturesBody(body)));
  }

  @Post('push')
  @HttpCode(200)
  async push(@Body() body: unknown) {
    return this.online.push(parseBody(pushBody, body));
  }

  @Post('training-sets')
  @HttpCode(201)
  async createTrainingSet(@Body() body: unknown) {
    return trainingSetJson(await this.trainingSets.create(parseBody(trainingSetBody, body)));
  }

  @Get('training-sets/:id')
  async trainingSet(@Param('id') id: string) {
    return trainingSetJson(await this.trainingSets.get(id));
  }

  @Post('training-sets/:id/rebuild')
  @HttpCode(200)
  async rebuild(@Param('id') id: string) {
    return this.trainingSets.rebuild(id);
  }

  @Get('training-sets/:id/data')
  async trainingSetData(@Param('id') id: string, @Res() reply: FastifyReply) {
    const { record, stream } = await this.trainingSets.data(id);
    void reply
      .header('content-type', 'application/vnd.apache.parquet')
      .header('content-length', String(record.artifact.sizeBytes))
      .header('x-loopline-sha256', record.artifact.sha256)
      .header('content-disposition', `attachment; filename="training-set-${record.id.slice(0, 12)}.parquet"`)
      .send(stream);
  }
}
