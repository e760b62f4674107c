// The training service's events as Kafka messages, written to the outbox with the events:
// TrainingRunStarted/Completed/Failed on `loopline.training.runs.v1` (key: run id). The answers to
// pipeline tasks (TaskCompleted/TaskFailed) are sent by the shared task executor
// (`startTaskExecution` of @loopline/messaging) from its ledger.
import { create, type Message } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  encodeDynamicEvent,
  TrainingRunCompletedSchema,
  TrainingRunFailedSchema,
  TrainingRunStartedSchema,
  type LooplineEvent,
} from '@loopline/contracts';
import type { NewEvent, OutboxMessage } from '@loopline/eventsourcing';
import type { TrainingData, TrainingRun, TrainingRunEvent, TrainingRunState } from '../../domain/training-run/training-run';

export const trainingRunsTopic = 'loopline.training.runs.v1';
export const trainingSource = '/loopline/training';
export const executorName = 'training';

const timestamp = (iso: string) => timestampFromDate(new Date(iso));

function trainingDataMessage(data: TrainingData) {
  return {
    trainingSetId: data.trainingSetId,
    datasetVersionIds: [...data.datasetVersionIds],
    featureViews: data.featureViews.map((view) => ({ viewName: view.viewName, viewVersion: view.viewVersion })),
    labelColumn: data.labelColumn,
    rowCount: BigInt(data.rowCount),
    featureColumns: [...data.featureColumns],
  };
}

function contractMessage(event: TrainingRunEvent, run: TrainingRun): Message | null {
  switch (event.type) {
    case 'TrainingRunStarted':
      return create(TrainingRunStartedSchema, {
        runId: run.runId,
        experimentName: run.experimentName,
        modelName: run.modelName,
        trainer: { ...run.trainer },
        params: { ...run.params },
        trainingData: trainingDataMessage(run.trainingData),
        pipelineRunId: run.task?.pipelineRunId ?? '',
        taskId: run.task?.taskId ?? '',
        startedAt: timestamp(run.startedAt),
        seed: run.seed ?? 0,
        codeCommit: run.codeCommit,
        environmentLockSha256: run.environmentLockSha256,
        parentRunId: run.parentRunId ?? '',
        runName: run.runName,
      });
    case 'TrainingRunCompleted':
      return create(TrainingRunCompletedSchema, {
        runId: run.runId,
        experimentName: run.experimentName,
        modelName: run.modelName,
        trainer: { ...run.trainer },
        params: { ...run.params },
        trainingData: trainingDataMessage(run.trainingData),
        metrics: { ...event.data.metrics },
        model: event.data.model ? { uri: event.data.model.uri, sha256: event.data.model.sha256, sizeBytes: BigInt(event.data.model.sizeBytes) } : undefined,
        referenceProfileUri: event.data.referenceProfile?.uri ?? '',
        referenceProfileSha256: event.data.referenceProfile?.sha256 ?? '',
        pipelineRunId: run.task?.pipelineRunId ?? '',
        taskId: run.task?.taskId ?? '',
        startedAt: timestamp(run.startedAt),
        completedAt: timestamp(event.data.completedAt),
        registeredModelVersion: event.data.registered?.version ?? 0,
        seed: run.seed ?? 0,
        codeCommit: run.codeCommit,
        environmentLockSha256: run.environmentLockSha256,
        parentRunId: run.parentRunId ?? '',
      });
    case 'TrainingRunFailed':
      return create(TrainingRunFailedSchema, {
        runId: run.runId,
        experimentName: run.experimentName,
        modelName: run.modelName,
        trainer: { ...run.trainer },
        errorCode: event.data.errorCode,
        errorMessage: event.data.errorMessage,
        retryable: event.data.retryable,
        logsUri: event.data.logsUri,
        pipelineRunId: run.task?.pipelineRunId ?? '',
        taskId: run.task?.taskId ?? '',
        startedAt: timestamp(run.startedAt),
        failedAt: timestamp(event.data.failedAt),
        parentRunId: run.parentRunId ?? '',
      });
    default:
      return null;
  }
}

function encode(topic: string, key: string, id: string, time: string, subject: string, message: Message, event: NewEvent<TrainingRunEvent>): OutboxMessage {
  const encoded = encodeDynamicEvent({
    topic,
    key,
    id,
    source: trainingSource,
    time: new Date(time),
    subject,
    message: message as LooplineEvent,
    extensions: event.metadata.traceparent ? { traceparent: event.metadata.traceparent } : undefined,
  });
  return { topic, key: encoded.key, value: encoded.value, headers: encoded.headers, eventId: id };
}

/** The outbox messages of appended events, given the run's state after them. */
export function outboxMessages(events: readonly NewEvent<TrainingRunEvent>[], stateAfter: TrainingRunState): OutboxMessage[] {
  if (stateAfter.status === 'absent') return [];
  const run = stateAfter;
  const messages: OutboxMessage[] = [];
  for (const event of events) {
    const message = contractMessage(event, run);
    if (message) messages.push(encode(trainingRunsTopic, run.runId, event.eventId, event.metadata.time, run.runId, message, event));
  }
  return messages;
}
