// REST API of the training service under /v1: training and tuning jobs, experiments and runs
// (MLflow tracking semantics), run artifacts. Errors are `{error, code, details}` (the host's filter).
import { Body, Controller, Delete, Get, Headers, HttpCode, Inject, Param, Post, Put, Query, Req, Res } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { NotFoundError, ValidationError } from '@loopline/errors';
import { builtinTrainerNames } from '@loopline/ml';
import { artifactNamePattern } from '../../domain/training-run/training-run.decide';
import { Tracking } from '../../application/tracking';
import { TrainingJobs } from '../../application/training-jobs';
import type { ExternalTrainers, RunArtifactStore } from '../../application/ports';
import { EXTERNAL_TRAINERS, RUN_ARTIFACTS, TRAINING_SETTINGS } from '../tokens';
import type { TrainingSettings } from '../../config';
import { presentExperiment, presentRun } from './presenters';
import { contextOf, type Headers as RequestHeaders } from './request-context';
import {
  createRunBody,
  endRunBody,
  experimentBody,
  logMetricsBody,
  logParamsBody,
  parseBody,
  setTagBody,
  toTrainingJob,
  toTuningJob,
  trainingJobBody,
  tuningJobBody,
} from './request-schemas';
import { errorSchema, experimentSchema, runListSchema, runSchema, trainingJobSchema, tuningJobSchema } from './openapi-schemas';

@ApiTags('jobs')
@Controller('v1')
export class JobsController {
  constructor(
    @Inject(TrainingJobs) private readonly jobs: TrainingJobs,
    @Inject(EXTERNAL_TRAINERS) private readonly externals: ExternalTrainers,
    @Inject(TRAINING_SETTINGS) private readonly settings: TrainingSettings,
  ) {}

  @Post('training-jobs')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Start a training job',
    description:
      'Records a RUNNING run and trains in the background: fetch the training set, train (built-in in a worker thread, or a configured external trainer through the trainer contract), evaluate on the holdout, store the artifacts, register the model with its lineage. Follow it with GET /v1/runs/{runId}.',
  })
  @ApiBody({ schema: trainingJobSchema })
  @ApiResponse({ status: 202, schema: runSchema })
  @ApiResponse({ status: 400, description: 'unknown trainer, bad params, unknown training set', schema: errorSchema })
  async train(@Body() body: unknown, @Headers() headers: RequestHeaders) {
    return presentRun(await this.jobs.startTraining(toTrainingJob(parseBody(trainingJobBody, body, 'training job')), contextOf(headers)));
  }

  @Post('tuning-jobs')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Start a hyper-parameter search',
    description: 'Grid or seeded random search over a declared space; trials run in parallel (up to `workers`), each a run of its own; the best by `metric` is registered.',
  })
  @ApiBody({ schema: tuningJobSchema })
  @ApiResponse({ status: 202, schema: runSchema })
  @ApiResponse({ status: 400, schema: errorSchema })
  async tune(@Body() body: unknown, @Headers() headers: RequestHeaders) {
    return presentRun(await this.jobs.startTuning(toTuningJob(parseBody(tuningJobBody, body, 'tuning job')), contextOf(headers)));
  }

  @Get('trainers')
  @ApiOperation({ summary: 'The trainers this instance can run' })
  trainers() {
    return {
      trainers: [
        ...builtinTrainerNames.map((name) => ({ name: `builtin/${name}`, kind: 'builtin' })),
        ...this.externals.list().map((trainer) => ({ name: `external/${trainer.name}`, kind: 'external', version: trainer.version, lockfileSha256: trainer.lockfileSha256 })),
      ],
      workers: this.settings.workers,
    };
  }
}

@ApiTags('tracking')
@Controller('v1')
export class TrackingController {
  constructor(
    @Inject(Tracking) private readonly tracking: Tracking,
    @Inject(RUN_ARTIFACTS) private readonly artifacts: RunArtifactStore,
  ) {}

  @Post('experiments')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create an experiment (creating one that exists returns it unchanged)' })
  @ApiResponse({ status: 201, schema: experimentSchema })
  async createExperiment(@Body() body: unknown, @Headers() headers: RequestHeaders) {
    const input = parseBody(experimentBody, body, 'experiment');
    return presentExperiment(await this.tracking.createExperiment(input, contextOf(headers)));
  }

  @Get('experiments')
  @ApiOperation({ summary: 'List experiments', description: 'Eventually consistent (a projection).' })
  async experiments() {
    return { experiments: (await this.tracking.listExperiments()).map(presentExperiment) };
  }

  @Get('experiments/:name')
  @ApiResponse({ status: 200, schema: experimentSchema })
  @ApiResponse({ status: 404, schema: errorSchema })
  async experiment(@Param('name') name: string) {
    return presentExperiment(await this.tracking.getExperiment(name));
  }

  @Put('experiments/:name/tags/:key')
  async experimentTag(@Param('name') name: string, @Param('key') key: string, @Body() body: unknown, @Headers() headers: RequestHeaders) {
    return presentExperiment(await this.tracking.setExperimentTag(name, key, parseBody(setTagBody, body, 'tag').value, contextOf(headers)));
  }

  @Post('experiments/:name/runs')
  @HttpCode(201)
  @ApiOperation({ summary: 'Start a run the client tracks itself (log params, metrics, tags and artifacts, then end it)' })
  @ApiResponse({ status: 201, schema: runSchema })
  async createRun(@Param('name') name: string, @Body() body: unknown, @Headers() headers: RequestHeaders) {
    const input = parseBody(createRunBody, body, 'run');
    const run = await this.tracking.startRun(
      {
        runName: input.runName,
        experimentName: name,
        modelName: '',
        trainer: { name: input.trainer, version: '' },
        params: {},
        trainingData: { trainingSetId: input.trainingSetId, datasetVersionIds: [], featureViews: [], labelColumn: '', featureColumns: [], rowCount: 0 },
        seed: input.seed,
        codeCommit: input.codeCommit,
        environmentLockSha256: '',
        parentRunId: null,
        task: null,
        job: null,
        tags: input.tags,
      },
      contextOf(headers),
    );
    return presentRun(run);
  }

  @Get('experiments/:name/runs')
  @ApiOperation({ summary: 'List the runs of an experiment, newest first', description: 'Eventually consistent (a projection). Filters: status, parentRunId.' })
  @ApiResponse({ status: 200, schema: runListSchema })
  async runs(@Param('name') name: string, @Query('status') status?: string, @Query('parentRunId') parentRunId?: string) {
    return { runs: await this.tracking.searchRuns({ experimentName: name, status, parentRunId }) };
  }

  @Get('runs/:runId')
  @ApiResponse({ status: 200, schema: runSchema })
  @ApiResponse({ status: 404, schema: errorSchema })
  async run(@Param('runId') runId: string) {
    return presentRun(await this.tracking.getRun(runId));
  }

  @Post('runs/:runId/params')
  @HttpCode(200)
  @ApiOperation({ summary: 'Log params (immutable: the same value again is a no-op, another value is 409)' })
  async logParams(@Param('runId') runId: string, @Body() body: unknown, @Headers() headers: RequestHeaders) {
    return presentRun(await this.tracking.logParams(runId, parseBody(logParamsBody, body, 'params').params, contextOf(headers)));
  }

  @Post('runs/:runId/metrics')
  @HttpCode(200)
  @ApiOperation({ summary: 'Append metric values (history kept, with step and time)' })
  async logMetrics(@Param('runId') runId: string, @Body() body: unknown, @Headers() headers: RequestHeaders) {
    return presentRun(await this.tracking.logMetrics(runId, parseBody(logMetricsBody, body, 'metrics').metrics, contextOf(headers)));
  }

  @Get('runs/:runId/metrics/:key/history')
  async metricHistory(@Param('runId') runId: string, @Param('key') key: string) {
    return { metrics: await this.tracking.metricHistory(runId, key) };
  }

  @Put('runs/:runId/tags/:key')
  async setTag(@Param('runId') runId: string, @Param('key') key: string, @Body() body: unknown, @Headers() headers: RequestHeaders) {
    return presentRun(await this.tracking.setTag(runId, key, parseBody(setTagBody, body, 'tag').value, contextOf(headers)));
  }

  @Delete('runs/:runId/tags/:key')
  async deleteTag(@Param('runId') runId: string, @Param('key') key: string, @Headers() headers: RequestHeaders) {
    return presentRun(await this.tracking.deleteTag(runId, key, contextOf(headers)));
  }

  @Post('runs/:runId/end')
  @HttpCode(200)
  @ApiOperation({ summary: 'End a client-tracked run as FINISHED, FAILED or KILLED' })
  async end(@Param('runId') runId: string, @Body() body: unknown, @Headers() headers: RequestHeaders) {
    const { status } = parseBody(endRunBody, body, 'end');
    const context = contextOf(headers);
    const run = await this.tracking.getRun(runId);
    if (run.job !== null) throw new ValidationError('a run driven by a job ends by itself', { field: 'runId' });
    if (status === 'FAILED') return presentRun(await this.tracking.failRun(runId, { errorCode: 'CLIENT_FAILED', errorMessage: 'ended as FAILED by the client', retryable: false, logsUri: '' }, context));
    return presentRun(await this.tracking.completeRun(runId, { status, model: null, referenceProfile: null, registered: null, outputs: {} }, context));
  }

  @Put('runs/:runId/artifacts/:name')
  @ApiOperation({ summary: 'Upload an artifact of a running run (raw body, any content type); stored content-addressed' })
  async uploadArtifact(@Param('runId') runId: string, @Param('name') name: string, @Req() request: FastifyRequest, @Headers() headers: RequestHeaders) {
    if (!artifactNamePattern.test(name)) throw new ValidationError(`artifact name ${JSON.stringify(name)} must match ${artifactNamePattern}`, { field: 'name' });
    const body = request.body;
    const bytes = Buffer.isBuffer(body) ? body : typeof body === 'string' ? Buffer.from(body) : Buffer.from(JSON.stringify(body ?? null));
    const contentType = String(headers['content-type'] ?? 'application/octet-stream');
    const artifact = await this.artifacts.storeBytes(name, bytes, contentType);
    return presentRun(await this.tracking.logArtifact(runId, artifact, contextOf(headers)));
  }

  @Get('runs/:runId/artifacts/:name')
  @ApiOperation({ summary: "Download one of a run's artifacts (verified against its SHA-256 while streaming)" })
  async artifact(@Param('runId') runId: string, @Param('name') name: string, @Res() reply: FastifyReply) {
    const run = await this.tracking.getRun(runId);
    const artifact = run.artifacts.find((candidate) => candidate.name === name);
    if (!artifact) throw new NotFoundError(`run "${runId}" has no artifact "${name}"`, { runId, name });
    const stream = await this.artifacts.read(artifact);
    void reply.header('content-type', artifact.contentType).header('content-length', String(artifact.sizeBytes)).header('x-loopline-sha256', artifact.sha256).send(stream);
  }
}
