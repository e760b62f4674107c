// Orchestration's PostgreSQL side (schema `orchestration`): the event store (pipelines, runs,
// triggers), and the read models kept inline — written in the same transaction as the events
// they come from, so a read right after a write sees it (runs, pipelines, the task cache,
// lineage edges, task logs) — plus the worker's execution records (dedupe by idempotency key).
// The schema is migrated lazily and retried: the service boots while the database is down and
// reports itself not ready.
import type { Pool, PoolClient } from 'pg';
import { Inbox, PostgresEventStore, withTransaction, type NewEvent, type OutboxMessage } from '@loopline/eventsourcing';
import { UnavailableError } from '@loopline/errors';
import type { JsonValue } from '../../domain/expressions/expression';
import type { PipelineEvent, PipelineState } from '../../domain/pipeline/pipeline';
import { pipelineDecider } from '../../domain/pipeline/pipeline';
import type { PipelineDefinition } from '../../domain/pipeline/pipeline-definition';
import type { PipelineRunEvent, PipelineRunState } from '../../domain/run/pipeline-run';
import { evolve as evolveRun, initialState as initialRunState, pipelineRunEventTypes } from '../../domain/run/pipeline-run';
import type { PipelineTriggerEvent, PipelineTriggersState } from '../../domain/trigger/pipeline-triggers';
import { pipelineTriggersDecider } from '../../domain/trigger/pipeline-triggers';
import type { CacheEntry, LineageEdge, LineageRow, OrchestrationStorage, PipelineRow, RunRow, StoredAttemptLogs, WorkerExecution } from '../../application/ports';
import type { RunView } from '../../application/run-view';
import { pipelineStreamId, runStreamId, triggersStreamId } from '../../application/streams';

export const orchestrationSchema = 'orchestration';
const s = orchestrationSchema;

const tables = [
  `CREATE TABLE IF NOT EXISTS ${s}.pipelines (
    name text PRIMARY KEY, version integer NOT NULL, definition_hash text NOT NULL, definition jsonb NOT NULL,
    document jsonb NOT NULL, applied_by text NOT NULL, applied_at timestamptz NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS ${s}.runs (
    run_id text PRIMARY KEY, pipeline_name text NOT NULL, pipeline_version integer NOT NULL, status text NOT NULL,
    created_at timestamptz NOT NULL, ended_at timestamptz, next_wakeup_at timestamptz, revision bigint NOT NULL, view jsonb NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS runs_by_pipeline ON ${s}.runs (pipeline_name, status, created_at)`,
  `CREATE INDEX IF NOT EXISTS runs_by_created ON ${s}.runs (created_at DESC)`,
  `CREATE INDEX IF NOT EXISTS runs_by_wakeup ON ${s}.runs (next_wakeup_at) WHERE next_wakeup_at IS NOT NULL`,
  `CREATE TABLE IF NOT EXISTS ${s}.task_cache (
    cache_key text PRIMARY KEY, run_id text NOT NULL, task_id text NOT NULL, outputs jsonb NOT NULL, created_at timestamptz NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS ${s}.lineage_edges (
    run_id text NOT NULL, task_id text NOT NULL, artifact_id text NOT NULL, direction text NOT NULL, artifact_kind text NOT NULL,
    step_kind text NOT NULL, pipeline_name text NOT NULL, pipeline_version integer NOT NULL, code_version text NOT NULL,
    inputs jsonb NOT NULL, completed_at timestamptz NOT NULL,
    PRIMARY KEY (run_id, task_id, artifact_id, direction))`,
  `CREATE INDEX IF NOT EXISTS lineage_by_artifact ON ${s}.lineage_edges (artifact_id, direction)`,
  `CREATE TABLE IF NOT EXISTS ${s}.task_logs (
    run_id text NOT NULL, task_id text NOT NULL, attempt integer NOT NULL, logs text NOT NULL, logs_uri text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (run_id, task_id, attempt))`,
  `CREATE TABLE IF NOT EXISTS ${s}.worker_executions (
    idempotency_key text PRIMARY KEY, run_id text NOT NULL, task_id text NOT NULL, attempt integer NOT NULL,
    status text NOT NULL, owner text NOT NULL, lease_until timestamptz NOT NULL, result jsonb,
    started_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now())`,
];

const runEventTypes = new Set<string>(pipelineRunEventTypes);


export class PostgresOrchestrationStorage implements OrchestrationStorage {
  readonly store: PostgresEventStore | undefined;
  readonly inbox = new Inbox({ schema: orchestrationSchema });
  private migration: Promise<void> | undefined;
  private stopped = false;

  constructor(readonly pool: Pool | undefined) {
    if (pool) this.store = new PostgresEventStore({ pool, schema: orchestrationSchema });
  }

  ready(): Promise<void> {
    if (!this.pool || !this.store) return Promise.reject(new UnavailableError('the orchestration database is not configured (LOOPLINE_POSTGRES_URL)'));
    if (this.stopped) return Promise.reject(new UnavailableError('orchestration is shutting down'));
    const { pool, store } = this;
    this.migration ??= (async () => {
      await store.migrate();
      await withTransaction(pool, async (tx) => {
        await tx.query(`SELECT pg_advisory_xact_lock(hashtext('loopline-orchestration-migrate'))`);
        for (const statement of tables) await tx.query(statement);
      });
    })().catch((error: unknown) => {
      this.migration = undefined;
      throw new UnavailableError(`the orchestration database is unavailable: ${error instanceof Error ? error.message : String(error)}`);
    });
    return this.migration;
  }

  stop(): void {
    this.stopped = true;
  }

  private async db(): Promise<{ pool: Pool; store: PostgresEventStore }> {
    await this.ready();
    return { pool: this.pool!, store: this.store! };
  }

  async transaction<T>(work: (tx: PoolClient) => Promise<T>): Promise<T> {
    const { pool } = await this.db();
    return withTransaction(pool, work);
  }

  async handleOnce<T>(consumerGroup: string, eventId: string, work: (tx: PoolClient) => Promise<T>): Promise<{ processed: boolean; result?: T }> {
    const { pool } = await this.db();
    const outcome = await this.inbox.handleOnce(pool, consumerGroup, eventId, work);
    return outcome.status === 'processed' ? { processed: true, result: outcome.result } : { processed: false };
  }

  // -------------------------------------------------------------------------------------------
  // Aggregates

  async loadRun(runId: string): Promise<{ state: PipelineRunState; version: number }> {
    const { store } = await this.db();
    const { state, version } = await store.aggregateStream<PipelineRunState, PipelineRunEvent>(
      runStreamId(runId),
      { evolve: evolveRun, initialState: initialRunState },
      {
        decode: (event) => {
          if (!runEventTypes.has(event.type)) throw new Error(`unknown event type ${event.type} in ${event.streamId}`);
          return event as never;
        },
      },
    );
    return { state, version };
  }

  async loadPipeline(name: string): Promise<{ state: PipelineState; version: number }> {
    const { store } = await this.db();
    const { state, version } = await store.aggregateStream<PipelineState, PipelineEvent>(pipelineStreamId(name), pipelineDecider);
    return { state, version };
  }

  async loadTriggers(name: string): Promise<{ state: PipelineTriggersState; version: number }> {
    const { store } = await this.db();
    const { state, version } = await store.aggregateStream<PipelineTriggersState, PipelineTriggerEvent>(triggersStreamId(name), pipelineTriggersDecider);
    return { state, version };
  }

  async triggerHistory(name: string): Promise<PipelineTriggerEvent[]> {
    const { store } = await this.db();
    const { events } = await store.readStream<PipelineTriggerEvent>(triggersStreamId(name));
    return events.map((event) => ({ type: event.type, data: event.data }) as PipelineTriggerEvent);
  }

  async append<E extends PipelineRunEvent | PipelineEvent | PipelineTriggerEvent>(
    tx: PoolClient,
    streamId: string,
    events: readonly NewEvent<E>[],
    expectedVersion: number,
    outbox: readonly OutboxMessage[],
  ): Promise<number> {
    const { store } = await this.db();
    const result = await store.appendToStream(streamId, events, { expectedVersion, outbox, transaction: tx });
    return result.nextExpectedVersion;
  }

  // -------------------------------------------------------------------------------------------
  // Inline read models

  async savePipeline(tx: PoolClient, row: PipelineRow): Promise<void> {
    await tx.query(
      `INSERT INTO ${s}.pipelines (name, version, definition_hash, definition, document, applied_by, applied_at) VALUES ($1,$2,$3,$4,$5,$6,$7)
       ON CONFLICT (name) DO UPDATE SET version = excluded.version, definition_hash = excluded.definition_hash, definition = excluded.definition,
         document = excluded.document, applied_by = excluded.applied_by, applied_at = excluded.applied_at
       WHERE ${s}.pipelines.version < excluded.version`,
      [row.name, row.version, row.definitionHash, JSON.stringify(row.definition), JSON.stringify(row.document), row.appliedBy, row.appliedAt],
    );
  }

  async saveRunView(tx: PoolClient, view: RunView, nextWakeupAt: string | null): Promise<void> {
    await tx.query(
      `INSERT INTO ${s}.runs (run_id, pipeline_name, pipeline_version, status, created_at, ended_at, next_wakeup_at, revision, view)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)
       ON CONFLICT (run_id) DO UPDATE SET status = excluded.status, ended_at = excluded.ended_at, next_wakeup_at = excluded.next_wakeup_at,
         revision = excluded.revision, view = excluded.view
       WHERE ${s}.runs.revision < excluded.revision`,
      [view.runId, view.pipelineName, view.pipelineVersion, view.status, view.createdAt, view.endedAt, nextWakeupAt, view.revision, JSON.stringify(view)],
    );
  }

  async saveCacheEntry(tx: PoolClient, entry: CacheEntry): Promise<void> {
    // The first success of a key stays the cached one: every later one is equivalent by definition.
    await tx.query(`INSERT INTO ${s}.task_cache (cache_key, run_id, task_id, outputs, created_at) VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING`, [
      entry.cacheKey,
      entry.runId,
      entry.taskId,
      JSON.stringify(entry.outputs),
      entry.createdAt,
    ]);
  }

  async saveLineage(tx: PoolClient, edges: readonly LineageEdge[]): Promise<void> {
    for (const edge of edges) {
      await tx.query(
        `INSERT INTO ${s}.lineage_edges (run_id, task_id, artifact_id, direction, artifact_kind, step_kind, pipeline_name, pipeline_version, code_version, inputs, completed_at)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) ON CONFLICT DO NOTHING`,
        [edge.runId, edge.taskId, edge.artifactId, edge.direction, edge.artifactKind, edge.stepKind, edge.pipelineName, edge.pipelineVersion, edge.codeVersion, JSON.stringify(edge.inputs), edge.completedAt],
      );
    }
  }

  async saveLogs(tx: PoolClient, runId: string, taskId: string, attempt: number, logs: string, logsUri: string): Promise<void> {
    await tx.query(
      `INSERT INTO ${s}.task_logs (run_id, task_id, attempt, logs, logs_uri) VALUES ($1,$2,$3,$4,$5)
       ON CONFLICT (run_id, task_id, attempt) DO UPDATE SET logs = excluded.logs, logs_uri = excluded.logs_uri`,
      [runId, taskId, attempt, logs, logsUri],
    );
  }

  // -------------------------------------------------------------------------------------------
  // Queries

  async cacheLookup(keys: readonly string[]): Promise<Map<string, CacheEntry>> {
    if (keys.length === 0) return new Map();
    const { pool } = await this.db();
    const { rows } = await pool.query<{ cache_key: string; run_id: string; task_id: string; outputs: { [key: string]: JsonValue }; created_at: Date }>(
      `SELECT cache_key, run_id, task_id, outputs, created_at FROM ${s}.task_cache WHERE cache_key = ANY($1)`,
      [keys],
    );
    return new Map(rows.map((row) => [row.cache_key, { cacheKey: row.cache_key, runId: row.run_id, taskId: row.task_id, outputs: row.outputs, createdAt: row.created_at.toISOString() }]));
  }

  async listPipelines(): Promise<PipelineRow[]> {
    const { pool } = await this.db();
    const { rows } = await pool.query<{ name: string; version: number; definition_hash: string; definition: PipelineDefinition; document: JsonValue; applied_by: string; applied_at: Date }>(
      `SELECT * FROM ${s}.pipelines ORDER BY name`,
    );
    return rows.map((row) => ({
      name: row.name,
      version: row.version,
      definitionHash: row.definition_hash,
      definition: row.definition,
      document: row.document,
      appliedBy: row.applied_by,
      appliedAt: row.applied_at.toISOString(),
    }));
  }

  async getRunView(runId: string): Promise<RunRow | undefined> {
    const { pool } = await this.db();
    const { rows } = await pool.query<{ view: RunView; revision: string }>(`SELECT view, revision FROM ${s}.runs WHERE run_id = $1`, [runId]);
    return rows[0] ? { view: rows[0].view, revision: Number(rows[0].revision) } : undefined;
  }

  async runRevision(runId: string): Promise<number | undefined> {
    const { pool } = await this.db();
    const { rows } = await pool.query<{ revision: string }>(`SELECT revision FROM ${s}.runs WHERE run_id = $1`, [runId]);
    return rows[0] ? Number(rows[0].revision) : undefined;
  }

  async listRuns(filter: { readonly pipelineName?: string; readonly status?: string; readonly limit: number }): Promise<RunView[]> {
    const { pool } = await this.db();
    const { rows } = await pool.query<{ view: RunView }>(
      `SELECT view FROM ${s}.runs WHERE ($1::text IS NULL OR pipeline_name = $1) AND ($2::text IS NULL OR status = $2) ORDER BY created_at DESC, run_id LIMIT $3`,
      [filter.pipelineName ?? null, filter.status ?? null, filter.limit],
    );
    return rows.map((row) => row.view);
  }

  async activeRunIds(tx: PoolClient | undefined, pipelineName: string): Promise<string[]> {
    const db = tx ?? (await this.db()).pool;
    const { rows } = await db.query<{ run_id: string }>(`SELECT run_id FROM ${s}.runs WHERE pipeline_name = $1 AND status IN ('queued', 'running') ORDER BY created_at, run_id`, [pipelineName]);
    return rows.map((row) => row.run_id);
  }

  async runsDue(now: string, limit: number): Promise<string[]> {
    const { pool } = await this.db();
    const { rows } = await pool.query<{ run_id: string }>(`SELECT run_id FROM ${s}.runs WHERE next_wakeup_at <= $1 ORDER BY next_wakeup_at LIMIT $2`, [now, limit]);
    return rows.map((row) => row.run_id);
  }

  async queuedRunsReady(): Promise<{ runId: string; pipelineName: string }[]> {
    const { pool } = await this.db();
    // The oldest queued run of every pipeline that has no running run.
    const { rows } = await pool.query<{ run_id: string; pipeline_name: string }>(
      `SELECT DISTINCT ON (q.pipeline_name) q.run_id, q.pipeline_name FROM ${s}.runs q
       WHERE q.status = 'queued' AND NOT EXISTS (SELECT 1 FROM ${s}.runs r WHERE r.pipeline_name = q.pipeline_name AND r.status = 'running')
       ORDER BY q.pipeline_name, q.created_at, q.run_id`,
    );
    return rows.map((row) => ({ runId: row.run_id, pipelineName: row.pipeline_name }));
  }

  async taskLogs(runId: string, taskId: string): Promise<StoredAttemptLogs[]> {
    const { pool } = await this.db();
    const { rows } = await pool.query<{ attempt: number; logs: string; logs_uri: string }>(`SELECT attempt, logs, logs_uri FROM ${s}.task_logs WHERE run_id = $1 AND task_id = $2 ORDER BY attempt`, [runId, taskId]);
    return rows.map((row) => ({ attempt: row.attempt, logs: row.logs, logsUri: row.logs_uri }));
  }

  async lineageEdges(artifactIds: readonly string[], direction: 'input' | 'output'): Promise<LineageRow[]> {
    if (artifactIds.length === 0) return [];
    const { pool } = await this.db();
    const { rows } = await pool.query<{ run_id: string; task_id: string }>(
      `SELECT DISTINCT run_id, task_id FROM ${s}.lineage_edges WHERE artifact_id = ANY($1) AND direction = $2 LIMIT 1000`,
      [artifactIds, direction],
    );
    if (rows.length === 0) return [];
    const { rows: edges } = await pool.query<{
      run_id: string;
      task_id: string;
      artifact_id: string;
      direction: 'input' | 'output';
      artifact_kind: string;
      step_kind: string;
      pipeline_name: string;
      pipeline_version: number;
      code_version: string;
      inputs: { [key: string]: JsonValue };
      completed_at: Date;
    }>(`SELECT * FROM ${s}.lineage_edges WHERE (run_id, task_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`, [rows.map((row) => row.run_id), rows.map((row) => row.task_id)]);
    return edges.map((edge) => ({
      runId: edge.run_id,
      taskId: edge.task_id,
      artifactId: edge.artifact_id,
      direction: edge.direction,
      artifactKind: edge.artifact_kind,
      stepKind: edge.step_kind,
      pipelineName: edge.pipeline_name,
      pipelineVersion: edge.pipeline_version,
      codeVersion: edge.code_version,
      inputs: edge.inputs,
      completedAt: edge.completed_at.toISOString(),
    }));
  }

  // -------------------------------------------------------------------------------------------
  // Worker executions: one row per idempotency key, leased while the work runs.

  /**
   * Claims the execution of a key: `claimed` when this worker should run it (new, or its
   * previous holder's lease expired: it crashed), `done` with the recorded result when it ran
   * already, `busy` when another worker holds a live lease.
   */
  async claimExecution(claim: { key: string; runId: string; taskId: string; attempt: number; owner: string; leaseMs: number }): Promise<{ status: 'claimed' } | { status: 'busy' } | { status: 'done'; execution: WorkerExecution }> {
    const { pool } = await this.db();
    return withTransaction(pool, async (tx) => {
      const inserted = await tx.query(
        `INSERT INTO ${s}.worker_executions (idempotency_key, run_id, task_id, attempt, status, owner, lease_until)
         VALUES ($1,$2,$3,$4,'running',$5, now() + make_interval(secs => $6::double precision / 1000)) ON CONFLICT DO NOTHING`,
        [claim.key, claim.runId, claim.taskId, claim.attempt, claim.owner, claim.leaseMs],
      );
      if (inserted.rowCount === 1) return { status: 'claimed' as const };
      const { rows } = await tx.query<{ status: string; owner: string; expired: boolean; result: WorkerExecution['result']; attempt: number }>(
        `SELECT status, owner, lease_until < now() AS expired, result, attempt FROM ${s}.worker_executions WHERE idempotency_key = $1 FOR UPDATE`,
        [claim.key],
      );
      const row = rows[0]!;
      if (row.status !== 'running') return { status: 'done' as const, execution: { key: claim.key, status: row.status as 'completed' | 'failed', result: row.result, attempt: row.attempt } };
      if (!row.expired) return { status: 'busy' as const };
      await tx.query(
        `UPDATE ${s}.worker_executions SET owner = $2, attempt = $3, lease_until = now() + make_interval(secs => $4::double precision / 1000), updated_at = now() WHERE idempotency_key = $1`,
        [claim.key, claim.owner, claim.attempt, claim.leaseMs],
      );
      return { status: 'claimed' as const };
    });
  }

  async renewLeases(keys: readonly string[], owner: string, leaseMs: number): Promise<void> {
    if (keys.length === 0) return;
    const { pool } = await this.db();
    await pool.query(
      `UPDATE ${s}.worker_executions SET lease_until = now() + make_interval(secs => $3::double precision / 1000), updated_at = now()
       WHERE idempotency_key = ANY($1) AND owner = $2 AND status = 'running'`,
      [keys, owner, leaseMs],
    );
  }

  async finishExecution(key: string, owner: string, status: 'completed' | 'failed', result: WorkerExecution['result']): Promise<void> {
    const { pool } = await this.db();
    await pool.query(`UPDATE ${s}.worker_executions SET status = $3, result = $4, updated_at = now() WHERE idempotency_key = $1 AND owner = $2`, [key, owner, status, JSON.stringify(result)]);
  }
}
