import type { Experiment } from '../../domain/experiment/experiment';
import { latestMetrics, type TrainingRun } from '../../domain/training-run/training-run';

/** A run as the REST API shows it: its last metric values; the history is at `.../metrics/{key}/history`. */
export function presentRun(run: TrainingRun) {
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
    artifacts: run.artifacts,
    trainingData: run.trainingData,
    seed: run.seed,
    codeCommit: run.codeCommit,
    environmentLockSha256: run.environmentLockSha256,
    parentRunId: run.parentRunId,
    task: run.task,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    model: run.model,
    referenceProfile: run.referenceProfile,
    registered: run.registered,
    outputs: run.outputs,
    error: run.error,
    createdBy: run.actor,
  };
}

export function presentExperiment(experiment: Experiment) {
  return { name: experiment.name, description: experiment.description, tags: experiment.tags, createdBy: experiment.createdBy, createdAt: experiment.createdAt };
}
