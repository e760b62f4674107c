// `loopline.training.v1.TrainingService` (proto/loopline/training/v1/training_service.proto): the
// same use cases as the REST API, minus artifact transfer.
import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Metadata } from '@grpc/grpc-js';
import { ValidationError } from '@loopline/errors';
import { Tracking } from '../../application/tracking';
import { TrainingJobs } from '../../application/training-jobs';
import type { RequestContext } from '../../application/ports';
import type { Experiment } from '../../domain/experiment/experiment';
import { latestMetrics, type Metric, type TrainingRun } from '../../domain/training-run/training-run';
import type { RunSummary } from '../../projections/run-summaries.projection';
import { actorHeader, contextOf as contextOfHeaders } from '../http/request-context';
import { parseBody, toTrainingJob, toTuningJob, trainingJobBody, tuningJobBody } from '../http/request-schemas';

const service = 'TrainingService';

interface Timestamp {
  seconds: string;
  nanos: number;
}

function contextOf(metadata: Metadata | undefined): RequestContext {
  const actor = metadata?.get(actorHeader)[0];
  return contextOfHeaders({ [actorHeader]: typeof actor === 'string' ? actor : undefined });
}

function timestampOf(iso: string | null): Timestamp | null {
  if (iso === null) return null;
  const ms = Date.parse(iso);
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
}

function isoOf(timestamp: { seconds?: string | number; nanos?: number } | null | undefined): string | undefined {
  if (!timestamp) return undefined;
  return new Date(Number(timestamp.seconds ?? 0) * 1000 + Math.floor((timestamp.nanos ?? 0) / 1_000_000)).toISOString();
}

function experimentMessage(experiment: Experiment) {
  return { name: experiment.name, description: experiment.description, tags: experiment.tags, createdBy: experiment.createdBy, createdAt: timestampOf(experiment.createdAt) };
}

function runMessage(run: TrainingRun) {
  return {
    runId: run.runId,
    runName: run.runName,
    experimentName: run.experimentName,
    modelName: run.modelName,
    status: run.status,
    trainer: run.trainer,
    params: run.params,
    metrics: latestMetrics(run),
    tags: run.tags,
    artifacts: run.artifacts.map((artifact) => ({ ...artifact, sizeBytes: String(artifact.sizeBytes) })),
    trainingData: { ...run.trainingData, rowCount: String(run.trainingData.rowCount) },
    seed: run.seed ?? 0,
    codeCommit: run.codeCommit,
    environmentLockSha256: run.environmentLockSha256,
    parentRunId: run.parentRunId ?? '',
    registeredModelVersion: run.registered?.version ?? 0,
    startedAt: timestampOf(run.startedAt),
    endedAt: timestampOf(run.endedAt),
    errorCode: run.error?.code ?? '',
    errorMessage: run.error?.message ?? '',
  };
}

function summaryMessage(run: RunSummary) {
  return {
    runId: run.runId,
    runName: run.runName,
    experimentName: run.experimentName,
    modelName: run.modelName,
    status: run.status,
    trainer: { name: run.trainer, version: '' },
    params: run.params,
    metrics: run.metrics,
    tags: run.tags,
    parentRunId: run.parentRunId ?? '',
    registeredModelVersion: run.registered?.version ?? 0,
    startedAt: timestampOf(run.startedAt),
    endedAt: timestampOf(run.endedAt),
  };
}

function metricMessage(metric: Metric) {
  return { key: metric.key, value: metric.value, step: String(metric.step), timestamp: timestampOf(metric.timestamp) };
}

/** A TrainingJobSpec message as the REST body shape (empty proto3 defaults → absent). */
function jobBodyOf(spec: Record<string, unknown> | null | undefined): Record<string, unknown> {
  if (!spec) throw new ValidationError('spec is required', { field: 'spec' });
  const split = spec.split as { kind?: string; holdoutFraction?: number; timeColumn?: string } | null | undefined;
  const body: Record<string, unknown> = {
    experimentName: spec.experimentName,
    modelName: spec.modelName ?? '',
    trainingSetId: spec.trainingSetId,
    trainer: spec.trainer,
    params: spec.params ?? {},
    seed: spec.seed || 42,
    labelColumn: spec.labelColumn || 'label',
    runName: spec.runName ?? '',
    tags: spec.tags ?? {},
    description: spec.description ?? '',
  };
  const features = spec.featureColumns as string[] | undefined;
  if (features && features.length > 0) body.featureColumns = features;
  if (split?.kind) {
    body.split = { kind: split.kind, ...(split.holdoutFraction ? { holdoutFraction: split.holdoutFraction } : {}), ...(split.kind === 'time' && split.timeColumn ? { timeColumn: split.timeColumn } : {}) };
  }
  return body;
}

@Controller()
export class TrainingGrpcController {
  constructor(
    @Inject(Tracking) private readonly tracking: Tracking,
    @Inject(TrainingJobs) private readonly jobs: TrainingJobs,
  ) {}

  @GrpcMethod(service, 'StartTrainingJob')
  async startTrainingJob(request: { spec?: Record<string, unknown> }, metadata: Metadata) {
    const body = parseBody(trainingJobBody, jobBodyOf(request.spec), 'spec');
    return { run: runMessage(await this.jobs.startTraining(toTrainingJob(body), contextOf(metadata))) };
  }

  @GrpcMethod(service, 'StartTuningJob')
  async startTuningJob(
    request: { spec?: Record<string, unknown>; space?: Record<string, unknown>; strategy?: string; maxTrials?: number; metric?: string; direction?: string; workers?: number },
    metadata: Metadata,
  ) {
    const search: Record<string, unknown> = { space: request.space ?? {} };
    if (request.strategy) search.strategy = request.strategy;
    if (request.maxTrials) search.maxTrials = request.maxTrials;
    if (request.metric) search.metric = request.metric;
    if (request.direction) search.direction = request.direction;
    if (request.workers) search.workers = request.workers;
    const body = parseBody(tuningJobBody, { ...jobBodyOf(request.spec), search }, 'request');
    return { run: runMessage(await this.jobs.startTuning(toTuningJob(body), contextOf(metadata))) };
  }

  @GrpcMethod(service, 'CreateExperiment')
  async createExperiment(request: { name: string; description?: string; tags?: Record<string, string> }, metadata: Metadata) {
    return { experiment: experimentMessage(await this.tracking.createExperiment({ name: request.name, description: request.description ?? '', tags: request.tags ?? {} }, contextOf(metadata))) };
  }

  @GrpcMethod(service, 'GetExperiment')
  async getExperiment(request: { name: string }) {
    return { experiment: experimentMessage(await this.tracking.getExperiment(request.name)) };
  }

  @GrpcMethod(service, 'CreateRun')
  async createRun(request: { experimentName: string; runName?: string; tags?: Record<string, string>; trainingSetId?: string; seed?: number; codeCommit?: string }, metadata: Metadata) {
    const run = await this.tracking.startRun(
      {
        runName: request.runName ?? '',
        experimentName: request.experimentName,
        modelName: '',
        trainer: { name: 'client', version: '' },
        params: {},
        trainingData: { trainingSetId: request.trainingSetId ?? '', datasetVersionIds: [], featureViews: [], labelColumn: '', featureColumns: [], rowCount: 0 },
        seed: request.seed ? request.seed : null,
        codeCommit: request.codeCommit ?? '',
        environmentLockSha256: '',
        parentRunId: null,
        task: null,
        job: null,
        tags: request.tags ?? {},
      },
      contextOf(metadata),
    );
    return { run: runMessage(run) };
  }

  @GrpcMethod(service, 'GetRun')
  async getRun(request: { runId: string }) {
    return { run: runMessage(await this.tracking.getRun(request.runId)) };
  }

  @GrpcMethod(service, 'SearchRuns')
  async searchRuns(request: { experimentName: string; parentRunId?: string; status?: string }) {
    const runs = await this.tracking.searchRuns({ experimentName: request.experimentName, parentRunId: request.parentRunId || undefined, status: request.status || undefined });
    return { runs: runs.map(summaryMessage) };
  }

  @GrpcMethod(service, 'LogParams')
  async logParams(request: { runId: string; params?: Record<string, string> }, metadata: Metadata) {
    await this.tracking.logParams(request.runId, request.params ?? {}, contextOf(metadata));
    return {};
  }

  @GrpcMethod(service, 'LogMetrics')
  async logMetrics(request: { runId: string; metrics?: { key: string; value: number; step?: string | number; timestamp?: { seconds?: string; nanos?: number } | null }[] }, metadata: Metadata) {
    const metrics = (request.metrics ?? []).map((metric) => ({ key: metric.key, value: metric.value, step: Number(metric.step ?? 0), timestamp: isoOf(metric.timestamp) }));
    await this.tracking.logMetrics(request.runId, metrics, contextOf(metadata));
    return {};
  }

  @GrpcMethod(service, 'GetMetricHistory')
  async getMetricHistory(request: { runId: string; key: string }) {
    return { metrics: (await this.tracking.metricHistory(request.runId, request.key)).map(metricMessage) };
  }

  @GrpcMethod(service, 'SetTag')
  async setTag(request: { runId: string; key: string; value: string }, metadata: Metadata) {
    await this.tracking.setTag(request.runId, request.key, request.value, contextOf(metadata));
    return {};
  }

  @GrpcMethod(service, 'EndRun')
  async endRun(request: { runId: string; status?: string }, metadata: Metadata) {
    const context = contextOf(metadata);
    const status = request.status || 'FINISHED';
    const run = await this.tracking.getRun(request.runId);
    if (run.job !== null) throw new ValidationError('a run driven by a job ends by itself', { field: 'runId' });
    if (status === 'FAILED') return { run: runMessage(await this.tracking.failRun(request.runId, { errorCode: 'CLIENT_FAILED', errorMessage: 'ended as FAILED by the client', retryable: false, logsUri: '' }, context)) };
    if (status !== 'FINISHED' && status !== 'KILLED') throw new ValidationError('status must be FINISHED, FAILED or KILLED', { field: 'status' });
    return { run: runMessage(await this.tracking.completeRun(request.runId, { status, model: null, referenceProfile: null, registered: null, outputs: {} }, context)) };
  }
}
