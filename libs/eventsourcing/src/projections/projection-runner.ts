import type { Pool, PoolClient } from 'pg';
import { ConcurrencyError, IllegalStateError } from '@loopline/errors';
import type { RecordedEvent } from '../events/event';
import type { ReadAllOptions, ReadAllResult } from '../events/event-store';
import { qualified, toSafeInteger, type Queryable } from '../postgres/sql';
import { withTransaction } from '../postgres/transaction';
import { backoffDelay, WakeUp } from '../timing/wake-up';
import type { Projection } from './projection';

/** What the runner needs from the event store: a commit-safe global read (`PostgresEventStore`). */
export interface GlobalEventReader {
  readonly schema: string;
  readAllWith(db: Queryable, options: ReadAllOptions): Promise<ReadAllResult>;
}

export interface ProjectionRunnerOptions<Doc> {
  readonly pool: Pool;
  readonly store: GlobalEventReader;
  readonly projection: Projection<Doc>;
  /** Events per transaction. Default 500. */
  readonly batchSize?: number;
  /** Sleep between polls once caught up. Default 100 ms. */
  readonly pollIntervalMs?: number;
  readonly onError?: (error: unknown) => void;
}

interface DocumentState<Doc> {
  readonly original: Doc | null;
  current: Doc | null;
  /** Number of events applied to this document: it only grows, deletions included. */
  version: number;
  lastPosition: number;
  changed: boolean;
}

/**
 * Keeps one projection's table up to date from `readAll`: each batch of events and the new
 * checkpoint are written in one transaction, so the table always equals "every event up to the
 * checkpoint, applied once". Documents are upserted with a version guard
 * (`ON CONFLICT ... WHERE version < excluded.version`), so stale state never overwrites newer.
 */
export class ProjectionRunner<Doc> {
  private readonly pool: Pool;
  private readonly store: GlobalEventReader;
  private readonly projection: Projection<Doc>;
  private readonly table: string;
  private readonly checkpoints: string;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly onError: (error: unknown) => void;
  private readonly wakeUp = new WakeUp();
  private loop: Promise<void> | undefined;
  private stopping = false;

  constructor(options: ProjectionRunnerOptions<Doc>) {
    this.pool = options.pool;
    this.store = options.store;
    this.projection = options.projection;
    this.table = qualified(options.store.schema, options.projection.table ?? `projection_${options.projection.name}`);
    this.checkpoints = qualified(options.store.schema, 'projection_checkpoints');
    this.batchSize = options.batchSize ?? 500;
    this.pollIntervalMs = options.pollIntervalMs ?? 100;
    this.onError = options.onError ?? (() => undefined);
  }

  /**
   * Creates the documents table and the checkpoint if missing; if the stored checkpoint belongs to
   * another projection version, clears the documents so the next batches replay from the start.
   * (The checkpoints table itself comes from the event store's `migrate()`.)
   */
  async migrate(): Promise<void> {
    await withTransaction(this.pool, async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`loopline.projection:${this.table}`]);
      await tx.query(`CREATE TABLE IF NOT EXISTS ${this.table} (
        id            text PRIMARY KEY,
        document      jsonb,
        version       bigint NOT NULL,
        last_position bigint NOT NULL,
        updated_at    timestamptz NOT NULL DEFAULT now()
      )`);
      await tx.query(`INSERT INTO ${this.checkpoints} (name, position, projection_version) VALUES ($1, 0, $2) ON CONFLICT (name) DO NOTHING`, [
        this.projection.name,
        this.projection.version,
      ]);
      const { rows } = await tx.query<{ projection_version: number }>(`SELECT projection_version FROM ${this.checkpoints} WHERE name = $1`, [this.projection.name]);
      if (rows[0]!.projection_version !== this.projection.version) await this.reset(tx);
    });
  }

  /**
   * Replays from position 0: clears the documents and the checkpoint in one transaction (waiting
   * for a batch in flight), then the running loop, or `catchUp()`, rebuilds them. Readers see an
   * emptied table filling up again meanwhile.
   */
  async rebuild(): Promise<void> {
    await withTransaction(this.pool, (tx) => this.reset(tx));
    this.wakeUp.wake();
  }

  private async reset(tx: PoolClient): Promise<void> {
    await tx.query(`SELECT 1 FROM ${this.checkpoints} WHERE name = $1 FOR UPDATE`, [this.projection.name]);
    await tx.query(`DELETE FROM ${this.table}`);
    await tx.query(`UPDATE ${this.checkpoints} SET position = 0, projection_version = $2, updated_at = now() WHERE name = $1`, [
      this.projection.name,
      this.projection.version,
    ]);
  }

  /** Applies one batch; returns the number of events read (0 when caught up). */
  async runOnce(): Promise<number> {
    return withTransaction(this.pool, async (tx) => {
      const checkpoint = await tx.query<{ position: string }>(`SELECT position FROM ${this.checkpoints} WHERE name = $1`, [this.projection.name]);
      if (checkpoint.rows.length === 0) throw new IllegalStateError(`projection ${this.projection.name} has no checkpoint: call migrate() first`, { name: this.projection.name });
      const after = toSafeInteger(checkpoint.rows[0]!.position, 'checkpoint');
      // Read before taking any lock: a row lock gives this transaction an xid, which would hold
      // the horizon of its own read back.
      const batch = await this.store.readAllWith(tx, { after, limit: this.batchSize });
      if (batch.events.length === 0) return 0;
      // Compare-and-set on the checkpoint serialises runners of one projection (and a rebuild): a
      // second runner waits here, finds the checkpoint moved, and rolls back its batch.
      const advanced = await tx.query(`UPDATE ${this.checkpoints} SET position = $3, updated_at = now() WHERE name = $1 AND position = $2`, [
        this.projection.name,
        after,
        batch.checkpoint,
      ]);
      if (advanced.rowCount !== 1) {
        throw new ConcurrencyError(`projection ${this.projection.name}: checkpoint moved from ${after} meanwhile`, { name: this.projection.name, expected: after });
      }
      await this.apply(tx, batch.events);
      return batch.events.length;
    });
  }

  /** Applies batches until none is left; returns the number of events read. */
  async catchUp(): Promise<number> {
    let total = 0;
    for (let read = await this.runOnce(); read > 0; read = await this.runOnce()) total += read;
    return total;
  }

  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = this.run().finally(() => {
      this.loop = undefined;
    });
  }

  /** Stops after the batch in flight commits. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeUp.wake();
    await this.loop;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      let delay = 0;
      try {
        const read = await this.runOnce();
        failures = 0;
        if (read < this.batchSize) delay = this.pollIntervalMs;
      } catch (error) {
        this.onError(error);
        failures += 1;
        delay = backoffDelay(failures, this.pollIntervalMs, 30_000);
      }
      if (delay > 0 && !this.stopping) await this.wakeUp.sleep(delay);
    }
  }

  private async apply(tx: PoolClient, events: readonly RecordedEvent[]): Promise<void> {
    const idOf = (event: RecordedEvent) => (this.projection.documentId ? this.projection.documentId(event) : event.streamId);
    const ids = [...new Set(events.map(idOf).filter((id): id is string => id !== undefined))];
    if (ids.length === 0) return;
    const { rows } = await tx.query<{ id: string; document: Doc | null; version: string }>(
      `SELECT id, document, version FROM ${this.table} WHERE id = ANY($1::text[]) FOR UPDATE`,
      [ids],
    );
    const documents = new Map<string, DocumentState<Doc>>(ids.map((id) => [id, { original: null, current: null, version: 0, lastPosition: 0, changed: false }]));
    for (const row of rows) {
      const version = toSafeInteger(row.version, 'document version');
      documents.set(row.id, { original: row.document, current: row.document, version, lastPosition: 0, changed: false });
    }
    for (const event of events) {
      const id = idOf(event);
      if (id === undefined) continue;
      const state = documents.get(id)!;
      const next = this.projection.evolve(state.current, event);
      if (next === state.current) continue;
      state.current = next;
      state.version += 1;
      state.lastPosition = event.globalPosition;
      state.changed = true;
    }
    const changed = [...documents].filter(([, state]) => state.changed);
    if (changed.length === 0) return;
    // A deleted document stays as a row with a NULL document, so its version keeps growing and a
    // stale writer can never resurrect it.
    const result = await tx.query(
      `INSERT INTO ${this.table} AS p (id, document, version, last_position)
       SELECT * FROM unnest($1::text[], $2::jsonb[], $3::bigint[], $4::bigint[])
       ON CONFLICT (id) DO UPDATE SET document = excluded.document, version = excluded.version,
                                      last_position = excluded.last_position, updated_at = now()
        WHERE p.version < excluded.version`,
      [
        changed.map(([id]) => id),
        changed.map(([, state]) => (state.current === null ? null : JSON.stringify(state.current))),
        changed.map(([, state]) => state.version),
        changed.map(([, state]) => state.lastPosition),
      ],
    );
    if (result.rowCount !== changed.length) {
      throw new ConcurrencyError(`projection ${this.projection.name}: ${changed.length - (result.rowCount ?? 0)} documents were written by someone else meanwhile`, {
        name: this.projection.name,
      });
    }
  }

  /** One document, or `undefined` if it does not exist (or was deleted). */
  async readDocument(id: string): Promise<Doc | undefined> {
    const { rows } = await this.pool.query<{ document: Doc | null }>(`SELECT document FROM ${this.table} WHERE id = $1`, [id]);
    return rows[0]?.document ?? undefined;
  }

  /** Every live document by id, in id order (for tests, tools and small read models). */
  async readDocuments(): Promise<Map<string, Doc>> {
    const { rows } = await this.pool.query<{ id: string; document: Doc }>(`SELECT id, document FROM ${this.table} WHERE document IS NOT NULL ORDER BY id`);
    return new Map(rows.map((row) => [row.id, row.document]));
  }

  /** The global position of the last event applied. */
  async checkpoint(): Promise<number> {
    const { rows } = await this.pool.query<{ position: string }>(`SELECT position FROM ${this.checkpoints} WHERE name = $1`, [this.projection.name]);
    return rows[0] ? toSafeInteger(rows[0].position, 'checkpoint') : 0;
  }
}
