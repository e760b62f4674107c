// The idempotency-key ledger of a task executor, in the service's own PostgreSQL schema: one row
// per RunTask idempotency key, claimed before the work starts and leased while it runs.
import type { Pool, PoolClient } from 'pg';
import type { TaskErrorInfo } from './task-failure';
import type { TaskKindName } from './task-kinds';

/** What the ledger keeps of a command, enough to run it again after a crash and to answer it. */
export interface RecordedCommand {
  readonly runId: string;
  readonly taskId: string;
  readonly attempt: number;
  readonly idempotencyKey: string;
  readonly pipelineName: string;
  readonly kind: TaskKindName;
  readonly params: Readonly<Record<string, unknown>>;
  readonly timeoutMs: number;
  /** ISO-8601, or null when the command has no deadline. */
  readonly deadline: string | null;
  readonly cacheKey: string;
}

/** The recorded outcome of a finished task. */
export interface RecordedResult {
  /** CloudEvents id of the answer: the same each time the answer is published again. */
  readonly resultId: string;
  /** The attempt that produced it. */
  readonly attempt: number;
  readonly status: 'completed' | 'failed';
  readonly outputs?: Readonly<Record<string, unknown>>;
  readonly error?: TaskErrorInfo;
  readonly logsTail: string;
  readonly startedAt: string;
  readonly endedAt: string;
}

export type ClaimOutcome =
  | { readonly status: 'claimed'; readonly startedAt: string }
  | { readonly status: 'busy' }
  | { readonly status: 'done'; readonly result: RecordedResult; readonly command: RecordedCommand };

export class TaskLedger {
  private migration: Promise<void> | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
  ) {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid ledger schema name "${schema}"`);
  }

  private get table(): string {
    return `${this.schema}.task_executions`;
  }

  migrate(): Promise<void> {
    this.migration ??= this.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`loopline-task-ledger-${this.schema}`]);
      // The service's own migration may create the schema at the same moment (under a lock of its own).
      await tx.query('SAVEPOINT create_schema');
      try {
        await tx.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      } catch (error) {
        if ((error as { code?: string }).code !== '23505') throw error;
        await tx.query('ROLLBACK TO SAVEPOINT create_schema');
      }
      await tx.query(`CREATE TABLE IF NOT EXISTS ${this.table} (
        idempotency_key text PRIMARY KEY,
        kind text NOT NULL,
        command jsonb NOT NULL,
        status text NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
        owner text NOT NULL,
        lease_until timestamptz NOT NULL,
        result jsonb,
        published boolean NOT NULL DEFAULT false,
        started_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now())`);
      await tx.query(`CREATE INDEX IF NOT EXISTS task_executions_open ON ${this.table} (status, lease_until) WHERE status = 'running' OR NOT published`);
    }).catch((error: unknown) => {
      this.migration = undefined;
      throw error;
    });
    return this.migration;
  }

  /**
   * Claims a key for this owner: a new key, or one whose holder's lease has expired (it died), is
   * claimed; a finished one returns its result; a leased one is busy.
   */
  async claim(command: RecordedCommand, owner: string, leaseMs: number): Promise<ClaimOutcome> {
    return this.transaction(async (tx) => {
      const inserted = await tx.query<{ started_at: Date }>(
        `INSERT INTO ${this.table} (idempotency_key, kind, command, status, owner, lease_until)
         VALUES ($1, $2, $3, 'running', $4, now() + make_interval(secs => $5::double precision / 1000))
         ON CONFLICT DO NOTHING RETURNING started_at`,
        [command.idempotencyKey, command.kind, JSON.stringify(command), owner, leaseMs],
      );
      if (inserted.rows[0]) return { status: 'claimed', startedAt: inserted.rows[0].started_at.toISOString() };
      const { rows } = await tx.query<{ status: string; expired: boolean; result: RecordedResult | null; command: RecordedCommand; started_at: Date }>(
        `SELECT status, lease_until < now() AS expired, result, command, started_at FROM ${this.table} WHERE idempotency_key = $1 FOR UPDATE`,
        [command.idempotencyKey],
      );
      const row = rows[0]!;
      if (row.status !== 'running' && row.result) return { status: 'done', result: row.result, command: row.command };
      if (!row.expired) return { status: 'busy' };
      await tx.query(
        `UPDATE ${this.table} SET owner = $2, command = $3, lease_until = now() + make_interval(secs => $4::double precision / 1000), updated_at = now()
         WHERE idempotency_key = $1`,
        [command.idempotencyKey, owner, JSON.stringify(command), leaseMs],
      );
      return { status: 'claimed', startedAt: row.started_at.toISOString() };
    });
  }

  /** Claims the running executions of these kinds whose holders died (lease expired), at most `limit`. */
  async claimAbandoned(kinds: readonly TaskKindName[], owner: string, leaseMs: number, limit: number): Promise<{ command: RecordedCommand; startedAt: string }[]> {
    const { rows } = await this.pool.query<{ command: RecordedCommand; started_at: Date }>(
      `UPDATE ${this.table} SET owner = $2, lease_until = now() + make_interval(secs => $3::double precision / 1000), updated_at = now()
       WHERE idempotency_key IN (
         SELECT idempotency_key FROM ${this.table} WHERE status = 'running' AND lease_until < now() AND kind = ANY($1)
         ORDER BY lease_until LIMIT $4 FOR UPDATE SKIP LOCKED)
       RETURNING command, started_at`,
      [kinds, owner, leaseMs, limit],
    );
    return rows.map((row) => ({ command: row.command, startedAt: row.started_at.toISOString() }));
  }

  async renew(keys: readonly string[], owner: string, leaseMs: number): Promise<void> {
    if (keys.length === 0) return;
    await this.pool.query(
      `UPDATE ${this.table} SET lease_until = now() + make_interval(secs => $3::double precision / 1000), updated_at = now()
       WHERE idempotency_key = ANY($1) AND owner = $2 AND status = 'running'`,
      [keys, owner, leaseMs],
    );
  }

  /** Records the outcome; false when another owner took the key over meanwhile (this one's lease had expired). */
  async finish(key: string, owner: string, result: RecordedResult): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE ${this.table} SET status = $3, result = $4, published = false, updated_at = now() WHERE idempotency_key = $1 AND owner = $2 AND status = 'running'`,
      [key, owner, result.status, JSON.stringify(result)],
    );
    return rowCount === 1;
  }

  async markPublished(key: string): Promise<void> {
    await this.pool.query(`UPDATE ${this.table} SET published = true WHERE idempotency_key = $1`, [key]);
  }

  /** Finished executions whose answer was not confirmed published for `graceMs` (the publisher died in between). */
  async unpublished(kinds: readonly TaskKindName[], graceMs: number, limit: number): Promise<{ command: RecordedCommand; result: RecordedResult }[]> {
    const { rows } = await this.pool.query<{ command: RecordedCommand; result: RecordedResult }>(
      `SELECT command, result FROM ${this.table}
       WHERE status <> 'running' AND NOT published AND kind = ANY($1) AND updated_at < now() - make_interval(secs => $2::double precision / 1000)
       ORDER BY updated_at LIMIT $3`,
      [kinds, graceMs, limit],
    );
    return rows;
  }

  /** The recorded execution of a key (operators, tests). */
  async find(key: string): Promise<{ status: string; command: RecordedCommand; result: RecordedResult | null; published: boolean } | null> {
    const { rows } = await this.pool.query<{ status: string; command: RecordedCommand; result: RecordedResult | null; published: boolean }>(
      `SELECT status, command, result, published FROM ${this.table} WHERE idempotency_key = $1`,
      [key],
    );
    return rows[0] ?? null;
  }

  private async transaction<T>(work: (tx: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
}
