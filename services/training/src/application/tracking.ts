// Experiment tracking (MLflow semantics, REFERENCE 2.1): experiments, runs, params written once,
// metrics appended with step and time, mutable tags, artifacts. Thin handlers: load the run's
// stream, decide, append at the loaded version with the outbox messages in the same transaction.
import { handleCommand, type NewEvent, type OutboxMessage, type RecordedEvent } from '@loopline/eventsourcing';
import { NotFoundError, ValidationError } from '@loopline/errors';
import { assertExperimentName, experimentDecider, experimentEventTypes, type Experiment, type ExperimentCommand, type ExperimentEvent, type ExperimentState } from '../domain/experiment/experiment';
import { trainingRunDecider, type CommandMeta, type StartTrainingRun, type TrainingRunCommand } from '../domain/training-run/training-run.decide';
import { trainingRunEventTypes, type Artifact, type Metric, type TrainingRun, type TrainingRunEvent, type TrainingRunState } from '../domain/training-run/training-run';
import type { RunSummary } from '../projections/run-summaries.projection';
import type { Clock, IdGenerator, RequestContext, TrainingEventStore } from './ports';

export const runStreamId = (runId: string) => `training_run-${runId}`;
export const experimentStreamId = (name: string) => `experiment-${name}`;
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function assertRunId(runId: string): void {
  if (!uuidPattern.test(runId)) throw new ValidationError(`run id ${JSON.stringify(runId)} is not a lowercase UUID`, { field: 'runId' });
}

export interface TrackingStorage {
  events(): Promise<TrainingEventStore>;
  runSummaries(filter: { readonly experimentName?: string; readonly parentRunId?: string; readonly status?: string }): Promise<readonly RunSummary[]>;
  experiments(): Promise<readonly Experiment[]>;
}

export interface TrackingDeps {
  readonly storage: TrackingStorage;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly toOutbox: (events: readonly NewEvent<TrainingRunEvent>[], stateAfter: TrainingRunState) => OutboxMessage[];
}

export type StartRunInput = Omit<StartTrainingRun['data'], 'runId'> & { readonly runId?: string };

const runTypes = new Set<string>(trainingRunEventTypes);
const experimentTypes = new Set<string>(experimentEventTypes);
function decodeRun(event: RecordedEvent): RecordedEvent<TrainingRunEvent> | undefined {
  if (!runTypes.has(event.type)) throw new Error(`unknown event type ${event.type} in stream ${event.streamId}`);
  return event as RecordedEvent<TrainingRunEvent>;
}
function decodeExperiment(event: RecordedEvent): RecordedEvent<ExperimentEvent> | undefined {
  if (!experimentTypes.has(event.type)) throw new Error(`unknown event type ${event.type} in stream ${event.streamId}`);
  return event as RecordedEvent<ExperimentEvent>;
}

export class Tracking {
  constructor(private readonly deps: TrackingDeps) {}

  now(): Date {
    return this.deps.clock.now();
  }

  // ------------------------------------------------------------------------------------------
  // Experiments

  async createExperiment(input: { readonly name: string; readonly description: string; readonly tags: Readonly<Record<string, string>> }, context: RequestContext): Promise<Experiment> {
    assertExperimentName(input.name);
    const { state } = await this.executeExperiment(input.name, context, (metadata) => ({ type: 'CreateExperiment', data: input, metadata }));
    return activeExperiment(state, input.name);
  }

  async setExperimentTag(name: string, key: string, value: string, context: RequestContext): Promise<Experiment> {
    assertExperimentName(name);
    await this.getExperiment(name);
    const { state } = await this.executeExperiment(name, context, (metadata) => ({ type: 'SetExperimentTag', data: { key, value }, metadata }));
    return activeExperiment(state, name);
  }

  async getExperiment(name: string): Promise<Experiment> {
    assertExperimentName(name);
    const store = await this.deps.storage.events();
    const { state } = await store.aggregateStream(experimentStreamId(name), experimentDecider, { decode: decodeExperiment });
    return activeExperiment(state, name);
  }

  listExperiments(): Promise<readonly Experiment[]> {
    return this.deps.storage.experiments();
  }

  // ------------------------------------------------------------------------------------------
  // Runs

  /** Starts a run (creating its experiment if needed); with a `runId` that exists, returns that run unchanged. */
  async startRun(input: StartRunInput, context: RequestContext): Promise<TrainingRun> {
    assertExperimentName(input.experimentName);
    await this.createExperiment({ name: input.experimentName, description: '', tags: {} }, context);
    const runId = input.runId ?? this.deps.ids.newId();
    const { state } = await this.execute(runId, context, (metadata) => ({ type: 'StartTrainingRun', data: { ...input, runId }, metadata }));
    return existingRun(state, runId);
  }

  logParams(runId: string, params: Readonly<Record<string, string>>, context: RequestContext): Promise<TrainingRun> {
    return this.command(runId, context, (metadata) => ({ type: 'LogParams', data: { params }, metadata }));
  }

  /** Metrics without a time get the time of the call; without a step, step 0. */
  logMetrics(runId: string, metrics: readonly { key: string; value: number; step?: number; timestamp?: string }[], context: RequestContext): Promise<TrainingRun> {
    const at = this.deps.clock.now().toISOString();
    const complete: Metric[] = metrics.map((metric) => ({ key: metric.key, value: metric.value, step: metric.step ?? 0, timestamp: metric.timestamp === undefined ? at : new Date(metric.timestamp).toISOString() }));
    return this.command(runId, context, (metadata) => ({ type: 'LogMetrics', data: { metrics: complete }, metadata }));
  }

  setTag(runId: string, key: string, value: string, context: RequestContext): Promise<TrainingRun> {
    return this.command(runId, context, (metadata) => ({ type: 'SetTag', data: { key, value }, metadata }));
  }

  deleteTag(runId: string, key: string, context: RequestContext): Promise<TrainingRun> {
    return this.command(runId, context, (metadata) => ({ type: 'DeleteTag', data: { key }, metadata }));
  }

  logArtifact(runId: string, artifact: Artifact, context: RequestContext): Promise<TrainingRun> {
    return this.command(runId, context, (metadata) => ({ type: 'LogArtifact', data: { artifact }, metadata }));
  }

  completeRun(
    runId: string,
    data: { status: 'FINISHED' | 'KILLED'; model: Artifact | null; referenceProfile: Artifact | null; registered: { modelName: string; version: number } | null; outputs: Record<string, unknown> },
    context: RequestContext,
  ): Promise<TrainingRun> {
    return this.command(runId, context, (metadata) => ({ type: 'CompleteRun', data, metadata }));
  }

  failRun(runId: string, data: { errorCode: string; errorMessage: string; retryable: boolean; logsUri: string }, context: RequestContext): Promise<TrainingRun> {
    return this.command(runId, context, (metadata) => ({ type: 'FailRun', data: { ...data, errorMessage: data.errorMessage.slice(0, 4_000) }, metadata }));
  }

  resendTaskResult(runId: string, idempotencyKey: string, context: RequestContext): Promise<TrainingRun> {
    return this.command(runId, context, (metadata) => ({ type: 'ResendTaskResult', data: { idempotencyKey }, metadata }));
  }

  async getRun(runId: string): Promise<TrainingRun> {
    assertRunId(runId);
    const store = await this.deps.storage.events();
    const { state } = await store.aggregateStream(runStreamId(runId), trainingRunDecider(runId), { decode: decodeRun });
    return existingRun(state, runId);
  }

  /** Whether a run exists (no error). */
  async findRun(runId: string): Promise<TrainingRun | undefined> {
    const store = await this.deps.storage.events();
    const { state } = await store.aggregateStream(runStreamId(runId), trainingRunDecider(runId), { decode: decodeRun });
    return state.status === 'absent' ? undefined : state;
  }

  /** The history of one metric, in logging order. */
  async metricHistory(runId: string, key: string): Promise<readonly Metric[]> {
    const run = await this.getRun(runId);
    return run.metrics.filter((metric) => metric.key === key);
  }

  /** Eventually consistent (a projection). */
  async searchRuns(filter: { readonly experimentName?: string; readonly parentRunId?: string; readonly status?: string }): Promise<readonly RunSummary[]> {
    if (filter.experimentName !== undefined) await this.getExperiment(filter.experimentName);
    return this.deps.storage.runSummaries(filter);
  }

  // ------------------------------------------------------------------------------------------

  private async command(runId: string, context: RequestContext, build: (metadata: CommandMeta) => TrainingRunCommand): Promise<TrainingRun> {
    assertRunId(runId);
    const { state } = await this.execute(runId, context, build);
    return existingRun(state, runId);
  }

  private async execute(runId: string, context: RequestContext, build: (metadata: CommandMeta) => TrainingRunCommand) {
    const store = await this.deps.storage.events();
    const time = this.deps.clock.now();
    const commandId = this.deps.ids.newId();
    return handleCommand({
      store,
      decider: trainingRunDecider(runId),
      streamId: runStreamId(runId),
      streamType: 'training_run',
      command: build({ actor: context.actor, at: time.toISOString() }),
      metadata: { commandId, time, actor: context.actor, correlationId: context.correlationId ?? commandId },
      decode: decodeRun,
      outbox: (events, stateAfter) => this.deps.toOutbox(events, stateAfter),
      retry: { attempts: 5 },
    });
  }

  private async executeExperiment(name: string, context: RequestContext, build: (metadata: CommandMeta) => ExperimentCommand) {
    const store = await this.deps.storage.events();
    const time = this.deps.clock.now();
    const commandId = this.deps.ids.newId();
    return handleCommand({
      store,
      decider: experimentDecider,
      streamId: experimentStreamId(name),
      streamType: 'experiment',
      command: build({ actor: context.actor, at: time.toISOString() }),
      metadata: { commandId, time, actor: context.actor, correlationId: context.correlationId ?? commandId },
      decode: decodeExperiment,
      retry: { attempts: 5 },
    });
  }
}

function existingRun(state: TrainingRunState, runId: string): TrainingRun {
  if (state.status === 'absent') throw new NotFoundError(`no training run "${runId}"`, { runId });
  return state;
}

function activeExperiment(state: ExperimentState, name: string): Experiment {
  if (state.status === 'absent') throw new NotFoundError(`no experiment named "${name}"`, { name });
  return state;
}
