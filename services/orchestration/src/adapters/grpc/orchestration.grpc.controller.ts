// `loopline.orchestration.v1.OrchestrationService` (proto/loopline/orchestration/v1/
// orchestration_service.proto): the REST use cases over gRPC. Messages are plain objects in the
// shape @grpc/proto-loader expects (camelCase, enums by name, Struct as `fields`/`kind`).
import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { Metadata, type ServerWritableStream } from '@grpc/grpc-js';
import { EMPTY, type Observable } from 'rxjs';
import { StepKind } from '@loopline/contracts';
import { fromProtoStruct, toProtoStruct, type ProtoStruct } from '@loopline/service-host/grpc-values';
import { OrchestrationApplication } from '../../application/orchestration-application';
import type { PipelineRow, RequestContext } from '../../application/ports';
import type { RunView } from '../../application/run-view';
import type { JsonValue } from '../../domain/expressions/expression';
import type { StepKindName } from '../../domain/pipeline/step-kinds';
import { stepKindOf } from '../kafka/contract-messages';
import { OrchestrationBackground } from '../kafka/orchestration-background';
import { actorFrom, actorHeader, correlationHeader, documentFromText } from '../http/requests';

const service = 'OrchestrationService';
// ---------------------------------------------------------------------------------------------
// Timestamp and enum mapping (Struct through @loopline/service-host/grpc-values)

function timestamp(iso: string | null | undefined) {
  if (!iso) return null;
  const ms = Date.parse(iso);
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
}

function stepKindEnum(kind: StepKindName): string {
  return `STEP_KIND_${StepKind[stepKindOf(kind)]}`;
}

function runMessage(run: RunView, withTasks = true) {
  return {
    runId: run.runId,
    pipelineName: run.pipelineName,
    pipelineVersion: run.pipelineVersion,
    status: `PIPELINE_RUN_STATUS_${run.status.toUpperCase()}`,
    trigger: {
      kind: `TRIGGER_KIND_${run.trigger.kind.toUpperCase()}`,
      actor: run.trigger.actor,
      scheduleName: run.trigger.kind === 'schedule' ? (run.trigger.triggerName ?? '') : '',
      eventType: run.trigger.kind === 'event' ? (run.trigger.eventType ?? '') : '',
      eventId: run.trigger.kind === 'event' ? (run.trigger.eventId ?? '') : '',
    },
    parameters: toProtoStruct(run.params),
    outputs: toProtoStruct(run.outputs),
    tasks: withTasks
      ? run.tasks.map((task) => ({
          taskId: task.taskId,
          stepKind: stepKindEnum(task.stepKind),
          status: `PIPELINE_TASK_STATUS_${task.status.toUpperCase()}`,
          dependsOn: task.dependsOn,
          cached: task.cached,
          skipReason: task.skipReason ?? '',
          inputs: toProtoStruct(task.inputs),
          outputs: toProtoStruct(task.outputs),
          cacheKey: task.cacheKey ?? '',
          attempts: task.attempts.map((attempt) => ({
            attempt: attempt.attempt,
            idempotencyKey: attempt.idempotencyKey,
            status: attempt.status,
            dispatchedAt: timestamp(attempt.dispatchedAt),
            startedAt: timestamp(attempt.startedAt),
            endedAt: timestamp(attempt.endedAt),
            durationMs: attempt.durationMs ?? 0,
            error: attempt.error ? { code: attempt.error.code, message: attempt.error.message, retryable: attempt.error.retryable, logsUri: attempt.error.logsUri } : null,
            executor: attempt.executor,
          })),
        }))
      : [],
    createdAt: timestamp(run.createdAt),
    startedAt: timestamp(run.startedAt),
    endedAt: timestamp(run.endedAt),
    failedTaskId: run.failedTaskId ?? '',
    error: run.error ? { code: run.error.code, message: run.error.message, retryable: run.error.retryable, logsUri: run.error.logsUri } : null,
    revision: String(run.revision),
    cancelReason: run.cancelReason ?? '',
  };
}

function pipelineMessage(row: PipelineRow) {
  return {
    name: row.name,
    version: row.version,
    definitionHash: row.definitionHash,
    definition: toProtoStruct(row.document),
    appliedBy: row.appliedBy,
    appliedAt: timestamp(row.appliedAt),
  };
}

function contextOf(metadata: Metadata | undefined): RequestContext {
  const actor = metadata?.get(actorHeader)[0];
  const correlation = metadata?.get(correlationHeader)[0];
  return {
    actor: actorFrom(typeof actor === 'string' ? actor : undefined),
    correlationId: typeof correlation === 'string' && /^[\x21-\x7e]{1,200}$/.test(correlation) ? correlation : undefined,
  };
}

const runStatusFilter: Record<string, string | undefined> = {
  PIPELINE_RUN_STATUS_QUEUED: 'queued',
  PIPELINE_RUN_STATUS_RUNNING: 'running',
  PIPELINE_RUN_STATUS_SUCCEEDED: 'succeeded',
  PIPELINE_RUN_STATUS_FAILED: 'failed',
  PIPELINE_RUN_STATUS_CANCELLED: 'cancelled',
};

@Controller()
export class OrchestrationGrpcController {
  constructor(
    @Inject(OrchestrationApplication) private readonly application: OrchestrationApplication,
    @Inject(OrchestrationBackground) private readonly background: OrchestrationBackground,
  ) {}

  @GrpcMethod(service, 'ApplyPipeline')
  async applyPipeline(request: { definition: string }, metadata: Metadata) {
    const { pipeline, changed } = await this.application.applyPipeline(documentFromText(request.definition ?? ''), contextOf(metadata));
    if (changed) await this.background.pipelinesChanged();
    return { pipeline: pipelineMessage(pipeline), changed };
  }

  @GrpcMethod(service, 'ValidatePipeline')
  validatePipeline(request: { definition: string }) {
    const { valid, problems } = this.application.validate(documentFromText(request.definition ?? ''));
    return { valid, problems };
  }

  @GrpcMethod(service, 'GetPipeline')
  async getPipeline(request: { name: string; version: number }) {
    return { pipeline: pipelineMessage(await this.application.getPipeline(request.name, request.version || undefined)) };
  }

  @GrpcMethod(service, 'ListPipelines')
  async listPipelines() {
    return { pipelines: (await this.application.listPipelines()).map(pipelineMessage) };
  }

  @GrpcMethod(service, 'StartPipelineRun')
  async startPipelineRun(request: { pipelineName: string; pipelineVersion: number; parameters: ProtoStruct | null; requestId: string }, metadata: Metadata) {
    const run = await this.application.startRun(
      request.pipelineName,
      { params: fromProtoStruct(request.parameters) as { [key: string]: JsonValue }, version: request.pipelineVersion || undefined, requestId: request.requestId || undefined },
      contextOf(metadata),
    );
    return { run: runMessage(run) };
  }

  @GrpcMethod(service, 'GetPipelineRun')
  async getPipelineRun(request: { runId: string }) {
    return { run: runMessage(await this.application.getRun(request.runId)) };
  }

  @GrpcMethod(service, 'ListPipelineRuns')
  async listPipelineRuns(request: { pipelineName: string; status: string; limit: number }) {
    const runs = await this.application.listRuns({ pipelineName: request.pipelineName || undefined, status: runStatusFilter[request.status], limit: request.limit || undefined });
    return { runs: runs.map((run) => runMessage(run, false)) };
  }

  /** Server streaming, written on the call; the returned EMPTY lets Nest end it. */
  @GrpcMethod(service, 'WatchPipelineRun')
  async watchPipelineRun(request: { runId: string }, _metadata: Metadata, call: ServerWritableStream<unknown, unknown>): Promise<Observable<never>> {
    let run = await this.application.getRun(request.runId);
    const closed = new AbortController();
    call.on('cancelled', () => closed.abort());
    call.write({ run: runMessage(run) });
    while (!closed.signal.aborted && (run.status === 'running' || run.status === 'queued')) {
      const next = await this.application.waitForRun(request.runId, run.revision, 15_000, closed.signal);
      if (next.revision !== run.revision) {
        run = next;
        call.write({ run: runMessage(run) });
      }
    }
    return EMPTY;
  }

  @GrpcMethod(service, 'CancelPipelineRun')
  async cancelPipelineRun(request: { runId: string; reason: string }, metadata: Metadata) {
    return { run: runMessage(await this.application.cancelRun(request.runId, request.reason || 'cancelled by request', contextOf(metadata))) };
  }

  @GrpcMethod(service, 'GetTaskLogs')
  async getTaskLogs(request: { runId: string; taskId: string; attempt: number }) {
    return { attempts: await this.application.taskLogs(request.runId, request.taskId, request.attempt || undefined) };
  }

  @GrpcMethod(service, 'GetLineage')
  async getLineage(request: { artifactId: string }) {
    const lineage = await this.application.lineage(request.artifactId);
    return {
      artifact: lineage.artifact,
      upstream: lineage.upstream,
      downstream: lineage.downstream,
      tasks: lineage.tasks.map((task) => ({
        ...task,
        stepKind: stepKindEnum(task.stepKind as StepKindName),
        parameters: toProtoStruct(task.parameters),
        completedAt: timestamp(task.completedAt),
      })),
    };
  }
}
