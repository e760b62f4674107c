// Read models of the training service: a summary per run (what `GET /v1/experiments/{name}/runs`
// lists and what the executor resumes after a crash) and the experiments list. Eventually
// consistent; single-run reads fold the run's stream instead.
import type { Projection } from '@loopline/eventsourcing';
import type { RecordedEvent } from '@loopline/eventsourcing';
import type { Experiment, ExperimentEvent } from '../domain/experiment/experiment';
import type { RunStatus, TrainingRunEvent } from '../domain/training-run/training-run';

export interface RunSummary {
  readonly runId: string;
  readonly runName: string;
  readonly experimentName: string;
  readonly modelName: string;
  readonly status: RunStatus;
  readonly trainer: string;
  readonly trainingSetId: string;
  readonly parentRunId: string | null;
  /** `train`, `tune` or `trial` for runs a job drives; null for runs a client tracks. */
  readonly jobKind: string | null;
  readonly params: Readonly<Record<string, string>>;
  /** Last value of each metric. */
  readonly metrics: Readonly<Record<string, number>>;
  readonly tags: Readonly<Record<string, string>>;
  readonly registered: { readonly modelName: string; readonly version: number } | null;
  readonly startedAt: string;
  readonly endedAt: string | null;
}

const runPrefix = 'training_run-';

export const runSummariesProjection: Projection<RunSummary> = {
  name: 'run_summaries',
  version: 1,
  documentId: (event) => (event.streamId.startsWith(runPrefix) ? event.streamId.slice(runPrefix.length) : undefined),
  evolve(document, recorded) {
    const event = recorded as RecordedEvent<TrainingRunEvent>;
    if (event.type === 'TrainingRunStarted') {
      const { data } = event;
      return {
        runId: data.runId,
        runName: data.runName,
        experimentName: data.experimentName,
        modelName: data.modelName,
        status: 'RUNNING',
        trainer: data.trainer.name,
        trainingSetId: data.trainingData.trainingSetId,
        parentRunId: data.parentRunId,
        jobKind: data.job?.kind ?? null,
        params: data.params,
        metrics: {},
        tags: data.tags,
        registered: null,
        startedAt: data.startedAt,
        endedAt: null,
      };
    }
    if (document === null) return null;
    switch (event.type) {
      case 'TrainingRunParamsLogged':
        return { ...document, params: { ...document.params, ...event.data.params } };
      case 'TrainingRunMetricsLogged': {
        const metrics = { ...document.metrics };
        for (const metric of event.data.metrics) metrics[metric.key] = metric.value;
        return { ...document, metrics };
      }
      case 'TrainingRunTagSet':
        return { ...document, tags: { ...document.tags, [event.data.key]: event.data.value } };
      case 'TrainingRunTagDeleted': {
        const tags = { ...document.tags };
        delete tags[event.data.key];
        return { ...document, tags };
      }
      case 'TrainingRunCompleted':
        return { ...document, status: event.data.status, metrics: { ...document.metrics, ...event.data.metrics }, registered: event.data.registered, endedAt: event.data.completedAt };
      case 'TrainingRunFailed':
        return { ...document, status: 'FAILED', endedAt: event.data.failedAt };
      case 'TrainingRunArtifactLogged':
      case 'TrainingTaskResultResent':
        return document;
      default:
        return document;
    }
  },
};

const experimentPrefix = 'experiment-';

export const experimentsProjection: Projection<Experiment> = {
  name: 'experiments',
  version: 1,
  documentId: (event) => (event.streamId.startsWith(experimentPrefix) ? event.streamId.slice(experimentPrefix.length) : undefined),
  evolve(document, recorded) {
    const event = recorded as RecordedEvent<ExperimentEvent>;
    switch (event.type) {
      case 'ExperimentCreated':
        return { status: 'active', name: event.data.name, description: event.data.description, tags: event.data.tags, createdBy: event.data.actor, createdAt: event.data.createdAt };
      case 'ExperimentTagSet':
        return document === null ? null : { ...document, tags: { ...document.tags, [event.data.key]: event.data.value } };
      default:
        return document;
    }
  },
};
