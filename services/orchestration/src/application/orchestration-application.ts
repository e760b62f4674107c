// Orchestration's use cases: thin handlers that load an aggregate, decide, run the activities a
// decision asks for (cache lookups), and append with the expected version, the outbox messages
// and the inline read models in one transaction. A concurrent writer (a result arriving while a
// tick decides) makes the append fail with ConcurrencyError; the handler reloads and decides again.
import { createHash } from 'node:crypto';
import type { PoolClient } from 'pg';
import type { EventMetadata, NewEvent } from '@loopline/eventsourcing';
import { ConcurrencyError, NotFoundError, ValidationError } from '@loopline/errors';
import type { JsonValue } from '../domain/expressions/expression';
import { taskArtifacts } from '../domain/lineage/artifacts';
import { hashJson } from '../domain/pipeline/canonical';
import { parsePipelineDefinition } from '../domain/pipeline/parse-definition';
import { pipelineDecider, pipelineVersion, type PipelineEvent } from '../domain/pipeline/pipeline';
import type { DefinitionEnvironment, DefinitionProblem, PipelineDefinition, TriggerDefinition } from '../domain/pipeline/pipeline-definition';
import { evolve, isTerminalRun, nextWakeup, tasksAwaitingCache, type Json, type PipelineRunEvent, type PipelineRunState, type RunPlan, type RunSettings, type RunTriggerInfo, type TaskErrorInfo } from '../domain/run/pipeline-run';
import { decide as decideRun, type CacheHit, type CommandMeta, type PipelineRunCommand } from '../domain/run/pipeline-run.decide';
import { resolveRunParams } from '../domain/run/run-params';
import { eventMatches, triggerParams } from '../domain/trigger/event-match';
import { pipelineTriggersDecider, type PipelineTriggerEvent } from '../domain/trigger/pipeline-triggers';
import { pipelineStreamId, runStreamId, triggersStreamId } from './streams';
import type { Clock, IdGenerator, LineageEdge, OrchestrationStorage, PipelineRow, RequestContext, RunMessages, StoredAttemptLogs } from './ports';
import { runView, type RunView } from './run-view';

export interface OrchestrationApplicationDeps {
  readonly storage: OrchestrationStorage;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly messages: RunMessages;
  readonly environment: DefinitionEnvironment;
  readonly settings: RunSettings & { readonly codeVersion: string };
  /** Called after a commit that ended a run or queued one (wakes the queue). */
  readonly onRunsChanged?: () => void;
}

/** A task result as the results consumer hands it over (from TaskCompleted / TaskFailed). */
export interface TaskResultInput {
  readonly runId: string;
  readonly taskId: string;
  readonly attempt: number;
  readonly idempotencyKey: string;
  readonly executor: string;
  readonly startedAt: string | null;
  readonly endedAt: string;
  readonly outcome: { readonly status: 'completed'; readonly outputs: Json; readonly logsUri: string } | { readonly status: 'failed'; readonly error: TaskErrorInfo };
  readonly logs: string;
}

/** A Loopline event (or a schedule tick) that may fire event triggers. */
export interface TriggerEventInput {
  readonly eventId: string;
  readonly eventType: string;
  readonly eventTime: Date;
  readonly payload: JsonValue;
}

export interface TriggerOutcome {
  readonly pipelineName: string;
  readonly triggerName: string;
  readonly decision: 'started' | 'queued' | 'skipped' | 'duplicate' | 'no_match' | 'too_old';
  readonly runId: string | null;
  readonly detail: string;
}

export interface LineageView {
  readonly artifact: { readonly artifactId: string; readonly kind: string };
  readonly upstream: { readonly artifactId: string; readonly kind: string }[];
  readonly downstream: { readonly artifactId: string; readonly kind: string }[];
  readonly tasks: {
    readonly runId: string;
    readonly taskId: string;
    readonly stepKind: string;
    readonly pipelineName: string;
    readonly pipelineVersion: number;
    readonly codeVersion: string;
    readonly inputs: string[];
    readonly outputs: string[];
    readonly parameters: JsonValue;
    readonly completedAt: string;
  }[];
}

const maxCommandAttempts = 8;

/** A UUID derived from a name (the shape of RFC 4122 version 5, over SHA-256). */
export function deterministicUuid(name: string): string {
  const hex = createHash('sha256').update(name).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export class OrchestrationApplication {
  constructor(private readonly deps: OrchestrationApplicationDeps) {}

  // ------------------------------------------------------------------------------------------
  // Pipelines

  validate(document: unknown): { readonly valid: boolean; readonly problems: readonly DefinitionProblem[]; readonly definition?: PipelineDefinition } {
    const parsed = parsePipelineDefinition(document, this.deps.environment);
    return parsed.ok ? { valid: true, problems: [], definition: parsed.definition } : { valid: false, problems: parsed.problems };
  }

  async applyPipeline(document: unknown, context: RequestContext): Promise<{ readonly pipeline: PipelineRow; readonly changed: boolean }> {
    const parsed = parsePipelineDefinition(document, this.deps.environment);
    if (!parsed.ok) {
      throw new ValidationError(`invalid pipeline definition: ${parsed.problems.map((problem) => `${problem.path || '(document)'}: ${problem.message}`).join('; ')}`, {
        problems: parsed.problems,
      });
    }
    const definition = parsed.definition;
    const definitionHash = hashJson(definition as unknown as JsonValue);
    for (let attempt = 1; ; attempt += 1) {
      const { state, version } = await this.deps.storage.loadPipeline(definition.name);
      const meta = this.meta(context);
      const events = pipelineDecider.decide({ type: 'ApplyPipeline', data: { definition, definitionHash, document: document as JsonValue }, metadata: meta }, state);
      if (events.length === 0) return { pipeline: rowOf(pipelineVersion(state, definition.name)), changed: false };
      const applied = events[0]!;
      try {
        await this.deps.storage.transaction(async (tx) => {
          await this.deps.storage.append<PipelineEvent>(tx, pipelineStreamId(definition.name), this.newEvents(events, meta, definition.name), version, []);
          await this.deps.storage.savePipeline(tx, rowOf(applied.data));
        });
        return { pipeline: rowOf(applied.data), changed: true };
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || attempt >= maxCommandAttempts) throw error;
      }
    }
  }

  async getPipeline(name: string, version?: number): Promise<PipelineRow & { readonly versions: readonly { version: number; definitionHash: string; appliedAt: string; appliedBy: string }[] }> {
    const { state } = await this.deps.storage.loadPipeline(name);
    const found = pipelineVersion(state, name, version);
    return {
      ...rowOf({ ...found, name }),
      versions: state.versions.map((entry) => ({ version: entry.version, definitionHash: entry.definitionHash, appliedAt: entry.appliedAt, appliedBy: entry.appliedBy })),
    };
  }

  listPipelines(): Promise<PipelineRow[]> {
    return this.deps.storage.listPipelines();
  }

  // ------------------------------------------------------------------------------------------
  // Runs

  async startRun(
    name: string,
    input: { readonly params: Json; readonly version?: number; readonly requestId?: string },
    context: RequestContext,
  ): Promise<RunView> {
    const { state } = await this.deps.storage.loadPipeline(name);
    const version = pipelineVersion(state, name, input.version);
    const params = resolveRunParams(version.definition, input.params);
    const runId = input.requestId ? deterministicUuid(`manual/${name}/${input.requestId}`) : this.deps.ids.newId();
    const trigger: RunTriggerInfo = { kind: 'manual', actor: context.actor, triggerName: null, eventType: null, eventId: input.requestId ?? null };
    const plan = this.plan(name, version.version, version.definitionHash, version.definition, params, trigger);
    await this.commandRun(runId, (meta) => ({ type: 'CreateRun', data: { runId, plan, queue: false }, metadata: meta }), context);
    return this.getRun(runId);
  }

  async cancelRun(runId: string, reason: string, context: RequestContext): Promise<RunView> {
    await this.commandRun(runId, (meta) => ({ type: 'CancelRun', data: { reason }, metadata: meta }), context);
    return this.getRun(runId);
  }

  async getRun(runId: string): Promise<RunView> {
    const row = await this.deps.storage.getRunView(runId);
    if (row === undefined) throw new NotFoundError(`no run with id "${runId}"`, { runId });
    return row.view;
  }

  listRuns(filter: { readonly pipelineName?: string; readonly status?: string; readonly limit?: number }): Promise<RunView[]> {
    return this.deps.storage.listRuns({ ...filter, limit: Math.min(Math.max(filter.limit ?? 50, 1), 500) });
  }

  /** Long poll: the run once its revision is above `afterRevision`, or as it is when `timeoutMs` passes. */
  async waitForRun(runId: string, afterRevision: number, timeoutMs: number, signal?: AbortSignal): Promise<RunView> {
    const deadline = Date.now() + Math.min(Math.max(timeoutMs, 0), 60_000);
    for (;;) {
      const revision = await this.deps.storage.runRevision(runId);
      if (revision === undefined) throw new NotFoundError(`no run with id "${runId}"`, { runId });
      if (revision > afterRevision || Date.now() >= deadline || signal?.aborted) return this.getRun(runId);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async taskLogs(runId: string, taskId: string, attempt?: number): Promise<StoredAttemptLogs[]> {
    const run = await this.getRun(runId);
    const task = run.tasks.find((candidate) => candidate.taskId === taskId);
    if (task === undefined) throw new NotFoundError(`run ${runId} has no task "${taskId}"`, { runId, taskId });
    const logs = await this.deps.storage.taskLogs(runId, taskId);
    return attempt ? logs.filter((entry) => entry.attempt === attempt) : logs;
  }

  /** Whether the run still waits for this task's result under this key (executors skip stale commands). */
  async isAwaiting(runId: string, taskId: string, idempotencyKey: string): Promise<boolean> {
    const row = await this.deps.storage.getRunView(runId);
    const task = row?.view.tasks.find((candidate) => candidate.taskId === taskId);
    return row?.view.status === 'running' && task?.status === 'running' && task.attempts.at(-1)?.idempotencyKey === idempotencyKey;
  }

  async recordTaskResult(result: TaskResultInput, resultEventId: string, consumerGroup: string): Promise<void> {
    const context: RequestContext = { actor: `executor:${result.executor || 'unknown'}`, correlationId: result.runId };
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.deps.storage.handleOnce(consumerGroup, resultEventId, async (tx) => {
          await this.commandRunIn(tx, result.runId, (meta) => ({
            type: 'RecordTaskResult',
            data: {
              taskId: result.taskId,
              attempt: result.attempt,
              idempotencyKey: result.idempotencyKey,
              executor: result.executor,
              startedAt: result.startedAt,
              endedAt: result.endedAt,
              outcome: result.outcome,
            },
            metadata: meta,
          }), context);
          if (result.logs !== '' || (result.outcome.status === 'completed' && result.outcome.logsUri !== '')) {
            const logsUri = result.outcome.status === 'completed' ? result.outcome.logsUri : result.outcome.error.logsUri;
            await this.deps.storage.saveLogs(tx, result.runId, result.taskId, result.attempt, result.logs, logsUri);
          }
        });
        return;
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || attempt >= maxCommandAttempts) throw error;
      }
    }
  }

  /** Periodic work: overdue results and due retries (Tick), queued runs whose turn came. */
  async tick(limit = 100): Promise<{ readonly ticked: number; readonly started: number }> {
    const now = this.deps.clock.now().toISOString();
    const due = await this.deps.storage.runsDue(now, limit);
    const system: RequestContext = { actor: 'system:orchestration' };
    for (const runId of due) await this.commandRun(runId, (meta) => ({ type: 'Tick', data: {}, metadata: meta }), system);
    const started = await this.startQueuedRuns();
    return { ticked: due.length, started };
  }

  async startQueuedRuns(): Promise<number> {
    const ready = await this.deps.storage.queuedRunsReady();
    for (const { runId } of ready) {
      await this.commandRun(runId, (meta) => ({ type: 'StartQueuedRun', data: {}, metadata: meta }), { actor: 'system:queue' });
    }
    return ready.length;
  }

  // ------------------------------------------------------------------------------------------
  // Triggers

  /** Every event and schedule trigger of the latest version of every pipeline. */
  async activeTriggers(): Promise<{ readonly pipeline: PipelineRow; readonly trigger: TriggerDefinition }[]> {
    const pipelines = await this.deps.storage.listPipelines();
    return pipelines.flatMap((pipeline) => pipeline.definition.triggers.map((trigger) => ({ pipeline, trigger })));
  }

  /**
   * Offers an event (or a schedule tick, `eventType: 'schedule'`) to one trigger. Exactly one
   * decision per (trigger, event id): the inbox records it in the transaction that makes the run,
   * and the run id is derived from the event id, so a redelivered event changes nothing.
   */
  async offerToTrigger(pipeline: PipelineRow, trigger: TriggerDefinition, event: TriggerEventInput, consumerGroup: string): Promise<TriggerOutcome> {
    const base = { pipelineName: pipeline.name, triggerName: trigger.name };
    const definition = pipeline.definition;
    // A trigger fires only for what happened after its pipeline version was applied: a new
    // trigger does not replay a topic's history (and a redeployed consumer group neither).
    if (event.eventTime.getTime() < Date.parse(pipeline.appliedAt)) return { ...base, decision: 'too_old', runId: null, detail: 'event older than the pipeline version' };
    let params: Json;
    try {
      if (trigger.kind === 'event' && !eventMatches(definition, trigger, event.payload)) return { ...base, decision: 'no_match', runId: null, detail: 'filter is false' };
      params = resolveRunParams(definition, triggerParams(definition, trigger, event.payload, { id: event.eventId, type: event.eventType, time: event.eventTime.toISOString() }));
    } catch (error) {
      return { ...base, decision: 'no_match', runId: null, detail: `filter or params failed: ${error instanceof Error ? error.message : String(error)}` };
    }
    const runId = deterministicUuid(`trigger/${pipeline.name}/${trigger.name}/${event.eventId}`);
    const context: RequestContext = { actor: `trigger:${pipeline.name}/${trigger.name}`, correlationId: event.eventId };
    const trig: RunTriggerInfo = { kind: trigger.kind === 'schedule' ? 'schedule' : 'event', actor: context.actor, triggerName: trigger.name, eventType: event.eventType, eventId: event.eventId };
    const plan = this.plan(pipeline.name, pipeline.version, pipeline.definitionHash, definition, params, trig);
    for (let attempt = 1; ; attempt += 1) {
      try {
        const outcome = await this.deps.storage.handleOnce(consumerGroup, `${event.eventId}|${pipeline.name}|${trigger.name}`, async (tx) => {
          const { state, version } = await this.deps.storage.loadTriggers(pipeline.name);
          const meta = this.meta(context);
          const activeRunIds = await this.deps.storage.activeRunIds(tx, pipeline.name);
          const decided = pipelineTriggersDecider.decide(
            {
              type: 'HandleTriggerEvent',
              data: { triggerName: trigger.name, policy: trigger.concurrency, debounceMs: trigger.debounceMs, eventId: event.eventId, eventType: event.eventType, eventTime: event.eventTime.toISOString(), runId, activeRunIds },
              metadata: meta,
            },
            state,
          );
          await this.deps.storage.append<PipelineTriggerEvent>(tx, triggersStreamId(pipeline.name), this.newEvents(decided, meta, event.eventId), version, []);
          const decision = decided[0]!;
          if (decision.type === 'TriggerEventSkipped') return { ...base, decision: 'skipped' as const, runId: null, detail: `${decision.data.reason}: ${decision.data.detail}` };
          for (const replaced of decision.data.replacedRunIds) {
            await this.commandRunIn(tx, replaced, (m) => ({ type: 'CancelRun', data: { reason: `replaced by run ${runId} (trigger ${trigger.name})` }, metadata: m }), context);
          }
          await this.commandRunIn(tx, runId, (m) => ({ type: 'CreateRun', data: { runId, plan, queue: decision.data.mode === 'queue' }, metadata: m }), context);
          return { ...base, decision: decision.data.mode === 'queue' ? ('queued' as const) : ('started' as const), runId, detail: decision.data.replacedRunIds.length > 0 ? `replaced ${decision.data.replacedRunIds.join(', ')}` : '' };
        });
        if (!outcome.processed) return { ...base, decision: 'duplicate', runId, detail: 'event already handled' };
        return outcome.result!;
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || attempt >= maxCommandAttempts) throw error;
      }
    }
  }

  /** Every decision the pipeline's triggers made, newest first: why an event did (not) start a run. */
  async triggerDecisions(name: string, limit = 100): Promise<{ readonly decision: string; readonly [key: string]: unknown }[]> {
    await this.getPipeline(name);
    const history = await this.deps.storage.triggerHistory(name);
    return history
      .slice(-limit)
      .reverse()
      .map((event) => (event.type === 'TriggerFired' ? { decision: event.data.mode === 'queue' ? 'queued' : 'started', ...event.data } : { decision: 'skipped', ...event.data }));
  }

  // ------------------------------------------------------------------------------------------
  // Lineage

  async lineage(artifactId: string): Promise<LineageView> {
    if (artifactId.trim() === '' || artifactId.length > 500) throw new ValidationError('an artifact id is 1-500 characters', { field: 'artifactId' });
    const tasks = new Map<string, LineageView['tasks'][number]>();
    const kinds = new Map<string, string>();
    const walk = async (direction: 'upstream' | 'downstream'): Promise<string[]> => {
      const seen = new Set<string>([artifactId]);
      let frontier = [artifactId];
      for (let depth = 0; depth < 50 && frontier.length > 0 && seen.size < 2_000; depth += 1) {
        // Upstream: the tasks that produced the frontier, then what they read. Downstream: the reverse.
        const rows = await this.deps.storage.lineageEdges(frontier, direction === 'upstream' ? 'output' : 'input');
        const next: string[] = [];
        for (const row of rows) {
          kinds.set(row.artifactId, row.artifactKind);
          const key = `${row.runId}/${row.taskId}`;
          const task = tasks.get(key) ?? {
            runId: row.runId,
            taskId: row.taskId,
            stepKind: row.stepKind,
            pipelineName: row.pipelineName,
            pipelineVersion: row.pipelineVersion,
            codeVersion: row.codeVersion,
            inputs: [],
            outputs: [],
            parameters: row.inputs,
            completedAt: row.completedAt,
          };
          const list = row.direction === 'input' ? task.inputs : task.outputs;
          if (!list.includes(row.artifactId)) list.push(row.artifactId);
          tasks.set(key, task);
          const follow = direction === 'upstream' ? row.direction === 'input' : row.direction === 'output';
          if (follow && !seen.has(row.artifactId)) {
            seen.add(row.artifactId);
            next.push(row.artifactId);
          }
        }
        frontier = next;
      }
      seen.delete(artifactId);
      return [...seen];
    };
    const upstream = await walk('upstream');
    const downstream = await walk('downstream');
    if (tasks.size === 0) throw new NotFoundError(`no run recorded artifact "${artifactId}"`, { artifactId });
    const ref = (id: string) => ({ artifactId: id, kind: kinds.get(id) ?? 'artifact' });
    return {
      artifact: ref(artifactId),
      upstream: upstream.map(ref),
      downstream: downstream.map(ref),
      tasks: [...tasks.values()].sort((a, b) => a.completedAt.localeCompare(b.completedAt)),
    };
  }

  // ------------------------------------------------------------------------------------------
  // The run command loop

  private plan(name: string, version: number, hash: string, definition: PipelineDefinition, params: Json, trigger: RunTriggerInfo): RunPlan {
    const { settings } = this.deps;
    return {
      pipelineName: name,
      pipelineVersion: version,
      definitionHash: hash,
      definition,
      params,
      trigger,
      codeVersion: settings.codeVersion,
      settings: { resultGraceMs: settings.resultGraceMs, defaultTimeoutMs: settings.defaultTimeoutMs },
    };
  }

  private meta(context: RequestContext): CommandMeta {
    return { actor: context.actor, at: this.deps.clock.now().toISOString() };
  }

  private newEvents<E extends PipelineRunEvent | PipelineEvent | PipelineTriggerEvent>(events: readonly E[], meta: CommandMeta, correlationId: string): NewEvent<E>[] {
    const metadata: EventMetadata = { time: meta.at, actor: meta.actor, correlationId };
    return events.map((event) => ({ ...event, eventId: this.deps.ids.newId(), metadata }));
  }

  /** Loads, decides, and runs the cache lookups the decision waits for, until it settles. */
  private async decideRun(runId: string, makeCommand: (meta: CommandMeta) => PipelineRunCommand, context: RequestContext) {
    const { state, version } = await this.deps.storage.loadRun(runId);
    const meta = this.meta(context);
    const events = decideRun(makeCommand(meta), state);
    let after = events.reduce(evolve, state);
    for (let round = 0; round < 1_000; round += 1) {
      const awaiting = tasksAwaitingCache(after);
      if (awaiting.length === 0) break;
      const found = await this.deps.storage.cacheLookup(awaiting.map((task) => task.cacheKey));
      const hits: Record<string, CacheHit | null> = {};
      for (const task of awaiting) {
        const entry = found.get(task.cacheKey);
        hits[task.taskId] = entry ? { outputs: entry.outputs, sourceRunId: entry.runId, sourceTaskId: entry.taskId } : null;
      }
      const resolved = decideRun({ type: 'ResolveCache', data: { hits }, metadata: meta }, after);
      events.push(...resolved);
      after = resolved.reduce(evolve, after);
    }
    return { before: state, version, events, after, meta };
  }

  /** One command on one run, in its own transaction, retried on a concurrent change. */
  private async commandRun(runId: string, makeCommand: (meta: CommandMeta) => PipelineRunCommand, context: RequestContext): Promise<PipelineRunState> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.deps.storage.transaction((tx) => this.commandRunIn(tx, runId, makeCommand, context));
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || attempt >= maxCommandAttempts) throw error;
        await new Promise((resolve) => setTimeout(resolve, 5 * attempt));
      }
    }
  }

  /** One command on one run inside the caller's transaction (the caller retries on ConcurrencyError). */
  private async commandRunIn(tx: PoolClient, runId: string, makeCommand: (meta: CommandMeta) => PipelineRunCommand, context: RequestContext): Promise<PipelineRunState> {
    const { before, version, events, after, meta } = await this.decideRun(runId, makeCommand, context);
    if (events.length === 0) return after;
    const stored = this.newEvents(events, meta, context.correlationId ?? runId);
    const nextVersion = await this.deps.storage.append<PipelineRunEvent>(tx, runStreamId(runId), stored, version, this.deps.messages.forRun(runId, stored, after));
    await this.deps.storage.saveRunView(tx, runView(after, nextVersion), nextWakeup(after));
    await this.recordOutcomes(tx, runId, events, after);
    if ((isTerminalRun(after.status) && !isTerminalRun(before.status)) || after.status === 'queued') queueMicrotask(() => this.deps.onRunsChanged?.());
    return after;
  }

  /** Cache entries and lineage edges of the tasks that completed in these events. */
  private async recordOutcomes(tx: PoolClient, runId: string, events: readonly PipelineRunEvent[], state: PipelineRunState): Promise<void> {
    const plan = state.plan!;
    for (const event of events) {
      if (event.type !== 'TaskSucceeded' && event.type !== 'TaskReusedFromCache') continue;
      const task = state.tasks[event.data.taskId]!;
      const at = event.type === 'TaskSucceeded' ? event.data.completedAt : event.data.reusedAt;
      if (event.type === 'TaskSucceeded' && task.cacheKey !== null) {
        await this.deps.storage.saveCacheEntry(tx, { cacheKey: task.cacheKey, runId, taskId: task.id, outputs: event.data.outputs, createdAt: at });
      }
      const step = plan.definition.steps.find((candidate) => candidate.id === task.id)!;
      const artifacts = taskArtifacts(task.kind, task.inputs, event.data.outputs);
      const codeVersion = [step.codeVersion ?? plan.definition.codeVersion, plan.codeVersion].filter(Boolean).join('@');
      const edge = (artifactId: string, artifactKind: string, direction: 'input' | 'output'): LineageEdge => ({
        runId,
        taskId: task.id,
        artifactId,
        direction,
        artifactKind,
        stepKind: task.kind,
        pipelineName: plan.pipelineName,
        pipelineVersion: plan.pipelineVersion,
        codeVersion,
        inputs: task.inputs ?? {},
        completedAt: at,
      });
      await this.deps.storage.saveLineage(tx, [
        ...artifacts.inputs.map((ref) => edge(ref.id, ref.kind, 'input')),
        ...artifacts.outputs.map((ref) => edge(ref.id, ref.kind, 'output')),
      ]);
    }
  }
}

function rowOf(version: { name?: string; version: number; definitionHash: string; definition: PipelineDefinition; document: JsonValue; appliedBy: string; appliedAt: string }): PipelineRow {
  return {
    name: version.name ?? version.definition.name,
    version: version.version,
    definitionHash: version.definitionHash,
    definition: version.definition,
    document: version.document,
    appliedBy: version.appliedBy,
    appliedAt: version.appliedAt,
  };
}
