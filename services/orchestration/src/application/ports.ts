// What orchestration's application layer needs from the outside world; adapters implement it.
import type { PoolClient } from 'pg';
import type { NewEvent, OutboxMessage } from '@loopline/eventsourcing';
import type { JsonValue } from '../domain/expressions/expression';
import type { PipelineEvent, PipelineState } from '../domain/pipeline/pipeline';
import type { PipelineDefinition } from '../domain/pipeline/pipeline-definition';
import type { PipelineRunEvent, PipelineRunState } from '../domain/run/pipeline-run';
import type { PipelineTriggerEvent, PipelineTriggersState } from '../domain/trigger/pipeline-triggers';
import type { RunView } from './run-view';

export type JsonObject = { readonly [key: string]: JsonValue };

export interface Clock {
  now(): Date;
}

export interface IdGenerator {
  newId(): string;
}

export interface RequestContext {
  readonly actor: string;
  readonly correlationId?: string;
}

export interface PipelineRow {
  readonly name: string;
  readonly version: number;
  readonly definitionHash: string;
  readonly definition: PipelineDefinition;
  readonly document: JsonValue;
  readonly appliedBy: string;
  readonly appliedAt: string;
}

export interface RunRow {
  readonly view: RunView;
  readonly revision: number;
}

export interface CacheEntry {
  readonly cacheKey: string;
  readonly runId: string;
  readonly taskId: string;
  readonly outputs: JsonObject;
  readonly createdAt: string;
}

export interface LineageEdge {
  readonly runId: string;
  readonly taskId: string;
  readonly artifactId: string;
  readonly direction: 'input' | 'output';
  readonly artifactKind: string;
  readonly stepKind: string;
  readonly pipelineName: string;
  readonly pipelineVersion: number;
  readonly codeVersion: string;
  readonly inputs: JsonObject;
  readonly completedAt: string;
}

export type LineageRow = LineageEdge;

export interface StoredAttemptLogs {
  readonly attempt: number;
  readonly logs: string;
  readonly logsUri: string;
}

/** A worker's record of one effect (idempotency key) and its result. */
export interface WorkerExecution {
  readonly key: string;
  readonly status: 'completed' | 'failed';
  readonly attempt: number;
  readonly result: {
    readonly outputs?: JsonObject;
    readonly error?: { readonly code: string; readonly message: string; readonly retryable: boolean };
    readonly logs: string;
    readonly startedAt: string;
    readonly endedAt: string;
  } | null;
}

/** The event store, the inline read models and the queries, as the application uses them. */
export interface OrchestrationStorage {
  transaction<T>(work: (tx: PoolClient) => Promise<T>): Promise<T>;
  /** Runs `work` once per (consumer group, event id), in the transaction that records it. */
  handleOnce<T>(consumerGroup: string, eventId: string, work: (tx: PoolClient) => Promise<T>): Promise<{ processed: boolean; result?: T }>;

  loadRun(runId: string): Promise<{ state: PipelineRunState; version: number }>;
  loadPipeline(name: string): Promise<{ state: PipelineState; version: number }>;
  loadTriggers(name: string): Promise<{ state: PipelineTriggersState; version: number }>;
  /** Every decision of the pipeline's triggers, oldest first. */
  triggerHistory(name: string): Promise<PipelineTriggerEvent[]>;
  append<E extends PipelineRunEvent | PipelineEvent | PipelineTriggerEvent>(
    tx: PoolClient,
    streamId: string,
    events: readonly NewEvent<E>[],
    expectedVersion: number,
    outbox: readonly OutboxMessage[],
  ): Promise<number>;

  savePipeline(tx: PoolClient, row: PipelineRow): Promise<void>;
  saveRunView(tx: PoolClient, view: RunView, nextWakeupAt: string | null): Promise<void>;
  saveCacheEntry(tx: PoolClient, entry: CacheEntry): Promise<void>;
  saveLineage(tx: PoolClient, edges: readonly LineageEdge[]): Promise<void>;
  saveLogs(tx: PoolClient, runId: string, taskId: string, attempt: number, logs: string, logsUri: string): Promise<void>;

  cacheLookup(keys: readonly string[]): Promise<Map<string, CacheEntry>>;
  listPipelines(): Promise<PipelineRow[]>;
  getRunView(runId: string): Promise<RunRow | undefined>;
  runRevision(runId: string): Promise<number | undefined>;
  listRuns(filter: { readonly pipelineName?: string; readonly status?: string; readonly limit: number }): Promise<RunView[]>;
  activeRunIds(tx: PoolClient | undefined, pipelineName: string): Promise<string[]>;
  runsDue(now: string, limit: number): Promise<string[]>;
  queuedRunsReady(): Promise<{ runId: string; pipelineName: string }[]>;
  taskLogs(runId: string, taskId: string): Promise<StoredAttemptLogs[]>;
  lineageEdges(artifactIds: readonly string[], direction: 'input' | 'output'): Promise<LineageRow[]>;
}

/** Turns decided events into the messages that publish them (the transactional outbox). */
export interface RunMessages {
  forRun(runId: string, events: readonly NewEvent<PipelineRunEvent>[], stateAfter: PipelineRunState): OutboxMessage[];
}
