// Training and tuning jobs. Starting one records a RUNNING run (its request inside, so that it can
// be resumed) and returns; the work happens in the background: fetch the training set, train
// (built-in in a worker thread, or an external trainer through the contract), log metrics and
// artifacts, register the model with its lineage, complete the run. A job interrupted by a crash
// is resumed at start-up (`resumeInterrupted`): training is deterministic and registration is
// idempotent (the registry's Idempotency-Key), so a resumed job registers one version.
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isLooplineError, NotFoundError, ValidationError } from '@loopline/errors';
import { DatasetError, ParamsError, referenceProfile, selectRows, splitRows, type Dataset, type ReferenceProfile, type SplitSpec } from '@loopline/ml';
import type { Logger } from '@loopline/telemetry';
import { bestTrial, trialsOf, type TrialParams } from '../domain/search/search-space';
import type { Artifact, TaskRef, TrainingRun } from '../domain/training-run/training-run';
import {
  columnsToRead,
  recordedParams,
  resolveFeatures,
  resolveSplit,
  resolveTrainer,
  type ResolvedTrainer,
  type TrainingJobRequest,
  type TuningJobRequest,
} from './job-requests';
import type { BuiltinTrainerPool, DatasetReader, ExternalTrainers, ModelRegistry, RequestContext, RunArtifactStore, TrainingSetInfo, TrainingSetSource } from './ports';
import type { Tracking } from './tracking';
import { deterministicId } from './ids';

export interface TrainingJobsSettings {
  readonly codeCommit: string;
  /** Version and lockfile hash of the built-in trainers (the Loopline version; package-lock.json). */
  readonly builtin: { readonly version: string; readonly lockSha256: string };
  readonly maxConcurrentJobs: number;
  /** Default trials at once. */
  readonly workers: number;
}

export interface TrainingJobsDeps {
  readonly tracking: Tracking;
  readonly trainingSets: TrainingSetSource;
  readonly reader: DatasetReader;
  readonly artifacts: RunArtifactStore;
  readonly registry: ModelRegistry;
  readonly pool: BuiltinTrainerPool;
  readonly externals: ExternalTrainers;
  readonly logger: Logger;
  readonly settings: TrainingJobsSettings;
}

const system: RequestContext = { actor: 'service:training' };

/** What one training produced, stored and logged on its run. */
interface TrainedArtifacts {
  readonly onnx: Uint8Array;
  readonly metrics: Record<string, number>;
  readonly model: Artifact;
  readonly profile: ReferenceProfile;
  readonly profileArtifact: Artifact;
}

/** A failure as a run records it. */
export interface RunFailure {
  readonly errorCode: string;
  readonly errorMessage: string;
  readonly retryable: boolean;
  readonly logsUri: string;
}

export class TrainingJobs {
  private readonly executing = new Map<string, Promise<void>>();
  private active = 0;
  private readonly queue: (() => void)[] = [];
  private readonly abort = new AbortController();

  constructor(private readonly deps: TrainingJobsDeps) {}

  // ------------------------------------------------------------------------------------------
  // Starting

  /** Validates the request, records the run and schedules it. `ValidationError` / `NotFoundError` for a bad request. */
  async startTraining(request: TrainingJobRequest, context: RequestContext, options: { readonly runId?: string; readonly task?: TaskRef } = {}): Promise<TrainingRun> {
    const run = await this.record('train', request, context, options);
    this.schedule(run.runId);
    return run;
  }

  async startTuning(request: TuningJobRequest, context: RequestContext, options: { readonly runId?: string; readonly task?: TaskRef } = {}): Promise<TrainingRun> {
    trialsOf(request.search.space, { strategy: request.search.strategy, maxTrials: request.search.maxTrials, seed: request.seed });
    const run = await this.record('tune', request, context, options);
    this.schedule(run.runId);
    return run;
  }

  /**
   * Records the run of a job without validating it further, then fails it: how a task command
   * whose request cannot be used still gets an answer (TaskFailed through the outbox).
   */
  async recordRejected(kind: 'train' | 'tune', raw: Readonly<Record<string, unknown>>, failure: RunFailure, runId: string, task: TaskRef, context: RequestContext): Promise<TrainingRun> {
    const experimentName = typeof raw.experimentName === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(raw.experimentName) ? raw.experimentName : 'default';
    await this.deps.tracking.startRun(
      {
        runId,
        runName: `${kind}-rejected`,
        experimentName,
        modelName: typeof raw.modelName === 'string' ? raw.modelName : '',
        trainer: { name: typeof raw.trainer === 'string' ? raw.trainer : '', version: '' },
        params: {},
        trainingData: { trainingSetId: typeof raw.trainingSetId === 'string' ? raw.trainingSetId : '', datasetVersionIds: [], featureViews: [], labelColumn: '', featureColumns: [], rowCount: 0 },
        seed: null,
        codeCommit: this.deps.settings.codeCommit,
        environmentLockSha256: '',
        parentRunId: null,
        task,
        job: { kind, request: raw },
        tags: {},
      },
      context,
    );
    return this.deps.tracking.failRun(runId, failure, context);
  }

  private async record(kind: 'train' | 'tune', request: TrainingJobRequest, context: RequestContext, options: { readonly runId?: string; readonly task?: TaskRef }): Promise<TrainingRun> {
    const trainer = resolveTrainer(request.trainer, this.deps.externals, this.deps.settings.builtin, request.task);
    const params = recordedParams(trainer, request.params, request.seed);
    const info = await this.describe(request.trainingSetId);
    const features = resolveFeatures(request, info);
    const split = resolveSplit(request, info);
    if (kind === 'tune' && trainer.kind === 'builtin') {
      // Every trial's params must be valid before anything runs.
      const { search } = request as TuningJobRequest;
      for (const trial of trialsOf(search.space, { strategy: search.strategy, maxTrials: search.maxTrials, seed: request.seed })) recordedParams(trainer, { ...request.params, ...trial }, request.seed);
    }
    return this.deps.tracking.startRun(
      {
        runId: options.runId,
        runName: request.runName || `${kind}-${trainer.ref.name.split('/')[1]}`,
        experimentName: request.experimentName,
        modelName: request.modelName,
        trainer: trainer.ref,
        params,
        trainingData: { trainingSetId: info.id, datasetVersionIds: info.datasetVersionIds, featureViews: info.featureViews, labelColumn: request.labelColumn, featureColumns: features, rowCount: info.rowCount },
        seed: request.seed,
        codeCommit: this.deps.settings.codeCommit,
        environmentLockSha256: trainer.lockSha256,
        parentRunId: null,
        task: options.task ?? null,
        job: { kind, request: { ...request, featureColumns: features, split: splitRequestOf(split) } as unknown as Record<string, unknown> },
        tags: { ...request.tags, 'loopline.job': kind, 'loopline.split': JSON.stringify(split) },
      },
      context,
    );
  }

  private async describe(trainingSetId: string): Promise<TrainingSetInfo> {
    try {
      return await this.deps.trainingSets.describe(trainingSetId);
    } catch (error) {
      if (error instanceof NotFoundError) throw new ValidationError(error.message, { field: 'trainingSetId', trainingSetId });
      throw error;
    }
  }

  // ------------------------------------------------------------------------------------------
  // Executing

  isExecuting(runId: string): boolean {
    return this.executing.has(runId);
  }

  /** Runs the job of a RUNNING run in the background (once per process). */
  schedule(runId: string): void {
    if (this.executing.has(runId) || this.abort.signal.aborted) return;
    const work = this.throttled(() => this.execute(runId))
      .catch((error: unknown) => this.deps.logger.error({ err: error, runId }, 'training job crashed'))
      .finally(() => this.executing.delete(runId));
    this.executing.set(runId, work);
  }

  /** Waits for a job of this process to end (tests, tools). */
  async settled(runId: string): Promise<void> {
    await this.executing.get(runId);
  }

  /** Resumes the managed runs (training and tuning jobs) left RUNNING by a previous process. */
  async resumeInterrupted(runs: readonly { readonly runId: string; readonly jobKind: string | null; readonly parentRunId: string | null }[]): Promise<number> {
    let resumed = 0;
    for (const run of runs) {
      // Trials are resumed by their tuning run.
      if (run.parentRunId !== null || (run.jobKind !== 'train' && run.jobKind !== 'tune')) continue;
      this.deps.logger.warn({ runId: run.runId }, 'resuming a training job interrupted by a restart');
      this.schedule(run.runId);
      resumed += 1;
    }
    return resumed;
  }

  /** Stops taking work and cancels running external trainers; recorded runs resume at next start. */
  async stop(): Promise<void> {
    this.abort.abort();
    for (const release of this.queue.splice(0)) release();
  }

  private async throttled<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.deps.settings.maxConcurrentJobs) await new Promise<void>((resolve) => this.queue.push(resolve));
    this.active += 1;
    try {
      return await work();
    } finally {
      this.active -= 1;
      this.queue.shift()?.();
    }
  }

  private async execute(runId: string): Promise<void> {
    if (this.abort.signal.aborted) return;
    const run = await this.deps.tracking.getRun(runId);
    if (run.status !== 'RUNNING' || !run.job) return;
    const scratch = await this.deps.artifacts.scratch();
    try {
      const trainingSetPath = join(scratch.path, 'training-set.parquet');
      await this.deps.trainingSets.download(run.trainingData.trainingSetId, trainingSetPath);
      if (run.job.kind === 'tune') await this.tune(run, run.job.request as unknown as TuningJobRequest, trainingSetPath, scratch.path);
      else await this.train(run, run.job.request as unknown as TrainingJobRequest, trainingSetPath, scratch.path);
    } catch (error) {
      if (this.abort.signal.aborted) return; // shutting down: the run resumes at the next start
      const failure = failureOf(error);
      this.deps.logger.warn({ runId, code: failure.errorCode, err: error }, `training run failed: ${failure.errorMessage}`);
      await this.deps.tracking.failRun(runId, failure, system);
    } finally {
      await scratch.release();
    }
  }

  private async train(run: TrainingRun, request: TrainingJobRequest, trainingSetPath: string, scratch: string): Promise<void> {
    const trainer = resolveTrainer(request.trainer, this.deps.externals, this.deps.settings.builtin, request.task);
    const split = resolveSplit(request, { ...emptyInfo, eventTimeColumn: null });
    const dataset = await this.deps.reader.read(trainingSetPath, columnsToRead(request.labelColumn, run.trainingData.featureColumns, split));
    const trained = await this.trainOnce(run, trainer, request, split, dataset, trainingSetPath, scratch);
    const registered = await this.register(run, run, trained.onnx, trained.metrics, trained.profile, request.description);
    await this.deps.tracking.completeRun(
      run.runId,
      {
        status: 'FINISHED',
        model: trained.model,
        referenceProfile: trained.profileArtifact,
        registered,
        outputs: {
          trainingRunId: run.runId,
          metrics: trained.metrics,
          modelSha256: trained.model.sha256,
          modelUri: trained.model.uri,
          ...(registered ? { modelName: registered.modelName, version: registered.version, modelVersion: `${registered.modelName}:${registered.version}` } : {}),
        },
      },
      system,
    );
  }

  private async tune(parent: TrainingRun, request: TuningJobRequest, trainingSetPath: string, scratch: string): Promise<void> {
    const trainer = resolveTrainer(request.trainer, this.deps.externals, this.deps.settings.builtin, request.task);
    const split = resolveSplit(request, { ...emptyInfo, eventTimeColumn: null });
    const dataset = await this.deps.reader.read(trainingSetPath, columnsToRead(request.labelColumn, parent.trainingData.featureColumns, split));
    const { search } = request;
    const trials = trialsOf(search.space, { strategy: search.strategy, maxTrials: search.maxTrials, seed: request.seed });
    const workers = Math.max(1, Math.min(search.workers ?? this.deps.settings.workers, trials.length));
    const results: ({ run: TrainingRun; trained: TrainedArtifacts } | null)[] = new Array(trials.length).fill(null);
    let next = 0;
    const worker = async () => {
      for (;;) {
        const index = next;
        next += 1;
        if (index >= trials.length || this.abort.signal.aborted) return;
        results[index] = await this.trial(parent, trainer, request, trials[index]!, index, split, dataset, trainingSetPath, scratch);
      }
    };
    await Promise.all(Array.from({ length: workers }, worker));
    if (this.abort.signal.aborted) return;

    const best = bestTrial(results.map((result) => result?.trained.metrics ?? null), search.metric, search.direction);
    if (best < 0) throw new JobError('NO_SUCCESSFUL_TRIAL', `no trial of ${trials.length} produced the metric "${search.metric}"`, false);
    const winner = results[best]!;
    await this.deps.tracking.logMetrics(parent.runId, [...Object.entries(winner.trained.metrics).map(([key, value]) => ({ key, value })), { key: 'trials', value: trials.length }], system);
    await this.deps.tracking.setTag(parent.runId, 'loopline.best_run_id', winner.run.runId, system);
    const registered = await this.register(parent, winner.run, winner.trained.onnx, winner.trained.metrics, winner.trained.profile, request.description);
    await this.deps.tracking.completeRun(
      parent.runId,
      {
        status: 'FINISHED',
        model: winner.trained.model,
        referenceProfile: winner.trained.profileArtifact,
        registered,
        outputs: {
          trainingRunId: winner.run.runId,
          bestTrainingRunId: winner.run.runId,
          bestParams: { ...trials[best]! },
          metrics: winner.trained.metrics,
          modelSha256: winner.trained.model.sha256,
          modelUri: winner.trained.model.uri,
          trials: trials.length,
          ...(registered ? { modelName: registered.modelName, version: registered.version, modelVersion: `${registered.modelName}:${registered.version}` } : {}),
        },
      },
      system,
    );
  }

  /** One trial: a run of its own (id derived from the tuning run and the trial's index, so a resumed search finds it). */
  private async trial(
    parent: TrainingRun,
    trainer: ResolvedTrainer,
    request: TuningJobRequest,
    trialParams: TrialParams,
    index: number,
    split: SplitSpec,
    dataset: Dataset,
    trainingSetPath: string,
    scratch: string,
  ): Promise<{ run: TrainingRun; trained: TrainedArtifacts } | null> {
    const params = { ...request.params, ...trialParams };
    const run = await this.deps.tracking.startRun(
      {
        runId: deterministicId(`${parent.runId}/trial/${index}`),
        runName: `${parent.runName}-trial-${index}`,
        experimentName: parent.experimentName,
        modelName: parent.modelName,
        trainer: parent.trainer,
        params: recordedParams(trainer, params, request.seed),
        trainingData: parent.trainingData,
        seed: request.seed,
        codeCommit: parent.codeCommit,
        environmentLockSha256: parent.environmentLockSha256,
        parentRunId: parent.runId,
        task: null,
        job: { kind: 'trial', request: { index, params: trialParams } },
        tags: { 'loopline.job': 'trial', 'loopline.parent_run_id': parent.runId },
      },
      system,
    );
    if (run.status === 'FAILED' || run.status === 'KILLED') return null;
    try {
      const trained = await this.trainOnce(run, trainer, { ...request, params }, split, dataset, trainingSetPath, join(scratch, `trial-${index}`));
      if (run.status === 'RUNNING') await this.deps.tracking.completeRun(run.runId, { status: 'FINISHED', model: trained.model, referenceProfile: trained.profileArtifact, registered: null, outputs: { metrics: trained.metrics } }, system);
      return { run, trained };
    } catch (error) {
      if (this.abort.signal.aborted) throw error;
      const failure = failureOf(error);
      await this.deps.tracking.failRun(run.runId, failure, system);
      // A trial with bad params fails alone; the search goes on.
      return null;
    }
  }

  /** Trains once on the run's data, then stores and logs its artifacts and metrics. */
  private async trainOnce(
    run: TrainingRun,
    trainer: ResolvedTrainer,
    request: TrainingJobRequest,
    split: SplitSpec,
    dataset: Dataset,
    trainingSetPath: string,
    scratch: string,
  ): Promise<TrainedArtifacts> {
    const features = run.trainingData.featureColumns;
    const artifacts: Artifact[] = [];
    const json = async (name: string, value: unknown) => {
      const artifact = await this.deps.artifacts.storeBytes(name, Buffer.from(JSON.stringify(value, null, 2)), 'application/json');
      artifacts.push(artifact);
      return artifact;
    };
    let onnx: Uint8Array;
    let metrics: Record<string, number>;
    let profile: ReferenceProfile;
    let model: Artifact;
    if (trainer.kind === 'builtin') {
      const result = await this.deps.pool.train({ dataset, trainer: trainer.builtin, label: request.labelColumn, features, split, params: request.params, seed: request.seed, threshold: request.threshold });
      onnx = result.onnx;
      metrics = finite(result.metrics);
      profile = result.profile;
      model = await this.deps.artifacts.storeBytes('model.onnx', onnx, 'application/octet-stream');
      artifacts.push(model);
      await json('feature_importance.json', result.featureImportance);
      if (result.curves) {
        await json('roc_curve.json', result.curves.roc);
        await json('pr_curve.json', result.curves.pr);
      }
      metrics = { ...metrics, train_rows: result.trainRows, holdout_rows: result.holdoutRows, training_seconds: Math.round(result.durationMs) / 1000 };
    } else {
      await mkdir(join(scratch, 'out'), { recursive: true });
      const specPath = join(scratch, 'spec.json');
      const spec = {
        contractVersion: 1 as const,
        runId: run.runId,
        trainingSet: { id: run.trainingData.trainingSetId, path: trainingSetPath, rowCount: run.trainingData.rowCount },
        labelColumn: request.labelColumn,
        featureColumns: features,
        task: trainer.task,
        split,
        params: request.params,
        seed: request.seed,
        outputDir: join(scratch, 'out'),
      };
      await writeFile(specPath, JSON.stringify(spec, null, 2));
      const result = await this.deps.externals.run(trainer.external, spec, specPath, this.abort.signal);
      onnx = new Uint8Array(await readFile(result.modelPath));
      metrics = { ...finite(result.metrics), training_seconds: Math.round(result.durationMs) / 1000 };
      model = await this.deps.artifacts.storeBytes('model.onnx', onnx, 'application/octet-stream');
      artifacts.push(model);
      artifacts.push(await this.deps.artifacts.storeFile('trainer.log', result.logPath, 'text/plain'));
      // The reference profile is the service's to compute: the same for every trainer.
      profile = referenceProfile(selectRows(dataset, splitRows(dataset, split).train), features);
    }
    await json('metrics.json', metrics);
    const profileArtifact = await json('reference_profile.json', profile);
    if (run.status === 'RUNNING') {
      for (const artifact of artifacts) await this.deps.tracking.logArtifact(run.runId, artifact, system);
      await this.deps.tracking.logMetrics(run.runId, Object.entries(metrics).map(([key, value]) => ({ key, value, step: 0 })), system);
    }
    return { onnx, metrics, model, profile, profileArtifact };
  }

  /**
   * Registers the model with its full lineage. The Idempotency-Key is derived from the pipeline
   * task (run id + task id: stable across attempts, so an attempt that times out and is retried
   * cannot add a second version) or, outside a pipeline, from the run id.
   */
  private async register(owner: TrainingRun, trained: TrainingRun, onnx: Uint8Array, metrics: Record<string, number>, profile: ReferenceProfile, description: string) {
    if (owner.modelName === '') return null;
    const key = owner.task ? `loopline-training-task:${owner.task.pipelineRunId}:${owner.task.taskId}` : `loopline-training-run:${owner.runId}`;
    await this.deps.registry.ensureModel(owner.modelName, `Trained by Loopline (experiment ${owner.experimentName}).`);
    const { version } = await this.deps.registry.registerVersion(
      owner.modelName,
      onnx,
      {
        description: description || `${trained.trainer.name} on training set ${trained.trainingData.trainingSetId.slice(0, 12)} (run ${trained.runId})`,
        metrics,
        params: trained.params,
        tags: {
          'loopline.training_run_id': trained.runId,
          'loopline.seed': String(trained.seed ?? ''),
          'loopline.environment_lock_sha256': trained.environmentLockSha256,
          'loopline.label_column': trained.trainingData.labelColumn,
          ...(owner.runId !== trained.runId ? { 'loopline.tuning_run_id': owner.runId } : {}),
        },
        lineage: {
          trainingRunId: trained.runId,
          pipelineRunId: owner.task?.pipelineRunId ?? '',
          experimentName: owner.experimentName,
          trainingSetId: trained.trainingData.trainingSetId,
          datasetVersionIds: trained.trainingData.datasetVersionIds,
          featureViews: trained.trainingData.featureViews,
          trainerName: trained.trainer.name,
          trainerVersion: trained.trainer.version,
          codeCommit: trained.codeCommit,
        },
        referenceProfile: profile,
      },
      key,
    );
    return { modelName: owner.modelName, version };
  }
}

const emptyInfo: TrainingSetInfo = { id: '', rowCount: 0, datasetVersionIds: [], featureViews: [], featureColumns: [], eventTimeColumn: null };

/** The split as a request again (recorded in the run, so a resumed job splits the same way). */
function splitRequestOf(split: SplitSpec): TrainingJobRequest['split'] {
  if (split.kind === 'random') return { kind: 'random', holdoutFraction: split.holdoutFraction };
  return split.cutoff !== undefined ? { kind: 'time', timeColumn: split.timeColumn, cutoff: split.cutoff } : { kind: 'time', timeColumn: split.timeColumn, holdoutFraction: split.holdoutFraction };
}

function finite(metrics: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(metrics).filter(([, value]) => Number.isFinite(value)));
}

/** A job-level failure with its run error code. */
export class JobError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'JobError';
  }
}

/** The error code a run records for a failure (documented in docs/adr/0007-training.md). */
export function failureOf(error: unknown): RunFailure {
  const message = error instanceof Error ? error.message : String(error);
  const base = { errorMessage: message, logsUri: '' };
  if (error instanceof JobError) return { ...base, errorCode: error.code, retryable: error.retryable };
  if (error instanceof ParamsError) return { ...base, errorCode: 'INVALID_PARAMS', retryable: false };
  if (error instanceof DatasetError) return { ...base, errorCode: 'INVALID_DATA', retryable: false };
  if (error instanceof Error && error.name === 'TrainerError') {
    const trainerError = error as Error & { code: string; logPath: string };
    return { ...base, errorCode: trainerError.code, retryable: trainerError.code === 'TRAINER_TIMEOUT' };
  }
  if (isLooplineError(error)) {
    switch (error.code) {
      case 'NOT_FOUND':
        return { ...base, errorCode: 'TRAINING_SET_NOT_FOUND', retryable: false };
      case 'VALIDATION':
        return { ...base, errorCode: error.details.registryStatus !== undefined ? 'REGISTRATION_REFUSED' : 'INVALID_REQUEST', retryable: false };
      case 'ILLEGAL_STATE':
        return { ...base, errorCode: 'REGISTRATION_REFUSED', retryable: false };
      case 'DATA_LOSS':
        return { ...base, errorCode: 'TRAINING_SET_CORRUPT', retryable: true };
      case 'UNAVAILABLE':
      case 'CONCURRENCY':
        return { ...base, errorCode: 'UNAVAILABLE', retryable: true };
    }
  }
  return { ...base, errorCode: 'INTERNAL', retryable: true };
}


