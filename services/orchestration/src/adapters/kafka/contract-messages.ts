// Orchestration's events and commands as contract messages (proto/loopline/orchestration/v1):
// run lifecycle events on `loopline.orchestration.pipeline-runs.v1`, `RunTask` commands on
// `loopline.orchestration.task-commands.v1` (key: the run id, so a run's commands stay in order),
// and the reverse mapping of `TaskCompleted` / `TaskFailed` into the application's input.
import { create, type JsonObject } from '@bufbuild/protobuf';
import { timestampDate, timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  encodeEvent,
  PipelineRunCancelledSchema,
  PipelineRunFailedSchema,
  PipelineRunStartedSchema,
  PipelineRunSucceededSchema,
  RunTaskSchema,
  StepKind,
  TaskCompletedSchema,
  TaskFailedSchema,
  TriggerKind,
  type RunTask,
  type TaskCompleted,
  type TaskFailed,
} from '@loopline/contracts';
import type { NewEvent, OutboxMessage } from '@loopline/eventsourcing';
import { stepKindOfTask, taskKindOf } from '@loopline/messaging';
import type { RunMessages } from '../../application/ports';
import type { TaskResultInput } from '../../application/orchestration-application';
import type { StepKindName } from '../../domain/pipeline/step-kinds';
import type { Json, PipelineRunEvent, PipelineRunState, TaskErrorInfo } from '../../domain/run/pipeline-run';

export const pipelineRunsTopic = 'loopline.orchestration.pipeline-runs.v1';
export const taskCommandsTopic = 'loopline.orchestration.task-commands.v1';
export const taskResultsTopic = 'loopline.orchestration.task-results.v1';
export const orchestrationSource = '/loopline/orchestration';
/** The most log text a result carries (TaskCompleted.logs_tail, TaskError.logs_tail). */
export const maxLogsTailBytes = 64 * 1024;

/** The contract enum of a step kind (the one table, shared with the executing services). */
export function stepKindOf(name: StepKindName): StepKind {
  return stepKindOfTask(name);
}

/** A contract step kind's name; undefined for UNSPECIFIED or a value this build does not know. */
export function stepKindName(kind: StepKind): StepKindName | undefined {
  return taskKindOf(kind);
}

const triggerKinds = { manual: TriggerKind.MANUAL, schedule: TriggerKind.SCHEDULE, event: TriggerKind.EVENT } as const;

const ts = (iso: string) => timestampFromDate(new Date(iso));

function contractMessage(runId: string, event: NewEvent<PipelineRunEvent>, state: PipelineRunState) {
  const plan = state.plan!;
  switch (event.type) {
    case 'PipelineRunStarted':
      return {
        topic: pipelineRunsTopic,
        message: create(PipelineRunStartedSchema, {
          runId,
          pipelineName: plan.pipelineName,
          pipelineVersion: plan.pipelineVersion,
          definitionHash: plan.definitionHash,
          trigger: { kind: triggerKinds[plan.trigger.kind], actor: plan.trigger.actor, scheduleName: plan.trigger.kind === 'schedule' ? (plan.trigger.triggerName ?? '') : '', eventType: plan.trigger.kind === 'event' ? (plan.trigger.eventType ?? '') : '', eventId: plan.trigger.kind === 'event' ? (plan.trigger.eventId ?? '') : '' },
          parameters: plan.params as JsonObject,
          tasks: plan.definition.steps.map((step) => ({ taskId: step.id, stepKind: stepKindOf(step.kind), dependsOn: [...step.dependsOn] })),
          startedAt: ts(event.data.startedAt),
        }),
      };
    case 'PipelineRunSucceeded':
      return {
        topic: pipelineRunsTopic,
        message: create(PipelineRunSucceededSchema, {
          runId,
          pipelineName: plan.pipelineName,
          outputs: event.data.outputs as JsonObject,
          taskCount: event.data.taskCount,
          cachedTaskCount: event.data.cachedTaskCount,
          startedAt: ts(state.startedAt!),
          succeededAt: ts(event.data.succeededAt),
        }),
      };
    case 'PipelineRunFailed':
      return {
        topic: pipelineRunsTopic,
        message: create(PipelineRunFailedSchema, {
          runId,
          pipelineName: plan.pipelineName,
          failedTaskId: event.data.failedTaskId,
          error: { code: event.data.error.code, message: event.data.error.message, retryable: event.data.error.retryable, logsUri: event.data.error.logsUri },
          startedAt: ts(state.startedAt!),
          failedAt: ts(event.data.failedAt),
        }),
      };
    case 'PipelineRunCancelled':
      return {
        topic: pipelineRunsTopic,
        message: create(PipelineRunCancelledSchema, {
          runId,
          pipelineName: plan.pipelineName,
          actor: event.data.actor,
          reason: event.data.reason,
          startedAt: ts(state.startedAt ?? state.createdAt!),
          cancelledAt: ts(event.data.cancelledAt),
        }),
      };
    case 'TaskDispatched':
      return {
        topic: taskCommandsTopic,
        message: create(RunTaskSchema, {
          runId,
          taskId: event.data.taskId,
          stepKind: stepKindOf(event.data.stepKind),
          idempotencyKey: event.data.idempotencyKey,
          params: event.data.inputs as JsonObject,
          attempt: event.data.attempt,
          pipelineName: plan.pipelineName,
          deadline: ts(event.data.deadline),
          timeoutMs: BigInt(event.data.timeoutMs),
          cacheKey: event.data.cacheKey ?? '',
        }),
      };
    default:
      return undefined;
  }
}

export const runMessages: RunMessages = {
  forRun(runId, events, stateAfter) {
    const messages: OutboxMessage[] = [];
    for (const event of events) {
      const found = contractMessage(runId, event, stateAfter);
      if (found === undefined) continue;
      const encoded = encodeEvent({
        topic: found.topic as typeof pipelineRunsTopic,
        key: runId,
        id: event.eventId,
        source: orchestrationSource,
        time: new Date(event.metadata.time),
        subject: event.type === 'TaskDispatched' ? `${runId}/${event.data.taskId}` : runId,
        message: found.message as never,
      });
      messages.push({ topic: found.topic, key: encoded.key, value: encoded.value, headers: encoded.headers, eventId: event.eventId });
    }
    return messages;
  },
};

// ---------------------------------------------------------------------------------------------
// Results

export function resultFromCompleted(message: TaskCompleted): TaskResultInput {
  return {
    runId: message.runId,
    taskId: message.taskId,
    attempt: message.attempt,
    idempotencyKey: message.idempotencyKey,
    executor: message.executor,
    startedAt: message.startedAt ? timestampDate(message.startedAt).toISOString() : null,
    endedAt: (message.completedAt ? timestampDate(message.completedAt) : new Date()).toISOString(),
    outcome: { status: 'completed', outputs: (message.outputs ?? {}) as Json, logsUri: message.logsUri },
    logs: message.logsTail,
  };
}

export function resultFromFailed(message: TaskFailed): TaskResultInput {
  const error: TaskErrorInfo = {
    code: message.error?.code || 'UNKNOWN',
    message: message.error?.message ?? '',
    retryable: message.error?.retryable ?? false,
    logsUri: message.error?.logsUri ?? '',
  };
  return {
    runId: message.runId,
    taskId: message.taskId,
    attempt: message.attempt,
    idempotencyKey: message.idempotencyKey,
    executor: message.executor,
    startedAt: message.startedAt ? timestampDate(message.startedAt).toISOString() : null,
    endedAt: (message.failedAt ? timestampDate(message.failedAt) : new Date()).toISOString(),
    outcome: { status: 'failed', error },
    logs: message.error?.logsTail ?? '',
  };
}

/** The outcome of executing a RunTask, as an executor reports it. */
export interface ExecutionOutcome {
  readonly status: 'completed' | 'failed';
  readonly outputs?: Json;
  readonly error?: { readonly code: string; readonly message: string; readonly retryable: boolean };
  readonly logs: string;
  readonly startedAt: string;
  readonly endedAt: string;
}

/** TaskCompleted or TaskFailed for a command, ready for `EventProducer.publish`; `id` makes redeliveries dedupe. */
export function resultMessage(command: RunTask, outcome: ExecutionOutcome, executor: string, id: string) {
  const logsTail = tail(outcome.logs, maxLogsTailBytes);
  const common = {
    runId: command.runId,
    taskId: command.taskId,
    attempt: command.attempt,
    idempotencyKey: command.idempotencyKey,
    stepKind: command.stepKind,
    executor,
    startedAt: ts(outcome.startedAt),
  };
  const message =
    outcome.status === 'completed'
      ? create(TaskCompletedSchema, { ...common, outputs: (outcome.outputs ?? {}) as JsonObject, completedAt: ts(outcome.endedAt), logsTail })
      : create(TaskFailedSchema, {
          ...common,
          error: { code: outcome.error?.code ?? 'UNKNOWN', message: outcome.error?.message ?? '', retryable: outcome.error?.retryable ?? false, logsTail },
          failedAt: ts(outcome.endedAt),
        });
  return encodeEvent({ topic: taskResultsTopic, key: command.runId, id, source: `/loopline/${executor}`, time: new Date(outcome.endedAt), subject: `${command.runId}/${command.taskId}`, message });
}

/** The last `maxBytes` of a text, cut at a character boundary. */
export function tail(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  return `…${bytes.subarray(bytes.length - maxBytes).toString('utf8').replace(/^\uFFFD+/, '')}`;
}
