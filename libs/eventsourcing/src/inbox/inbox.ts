import { Pool, type PoolClient } from 'pg';
import { ValidationError } from '@loopline/errors';
import { migrateEventSourcingSchema } from '../postgres/schema';
import { qualified } from '../postgres/sql';
import { withTransaction } from '../postgres/transaction';

export type InboxOutcome<T> = { readonly status: 'processed'; readonly result: T } | { readonly status: 'duplicate' };

/**
 * The idempotent consumer (microservices.io): a row `(consumer_group, event_id)` is inserted in
 * the same transaction as the effect of handling the event. Delivery is at-least-once (outbox
 * relay, Kafka redelivery after a rebalance); the effect happens exactly once per group, because
 * a second delivery finds the row and does nothing.
 *
 * Retention contract: inbox rows must outlive every redelivery window (topic retention, DLQ
 * replay); see docs/adr/0002.
 */
export class Inbox {
  private readonly table: string;

  constructor(private readonly options: { readonly schema?: string } = {}) {
    this.table = qualified(options.schema ?? 'public', 'inbox');
  }

  /** Creates the schema's event-sourcing tables (the inbox among them) if missing. */
  migrate(pool: Pool): Promise<void> {
    return migrateEventSourcingSchema(pool, this.options.schema ?? 'public');
  }

  /**
   * Runs `effect` once per (consumerGroup, eventId). With a pool, on a client of its own; with a
   * client, on that client, which must not be inside a transaction (this opens and commits one).
   * A concurrent duplicate waits for the first delivery's transaction: if it commits, the
   * duplicate is reported; if it rolls back, the duplicate runs the effect.
   *
   * If `effect` throws, nothing is recorded and the error propagates: the message is retried.
   */
  async handleOnce<T>(db: Pool | PoolClient, consumerGroup: string, eventId: string, effect: (tx: PoolClient) => Promise<T>): Promise<InboxOutcome<T>> {
    if (consumerGroup === '' || eventId === '') throw new ValidationError('consumerGroup and eventId must not be empty', { consumerGroup, eventId });
    const inTransaction = async (tx: PoolClient): Promise<InboxOutcome<T>> => {
      const claimed = await tx.query(`INSERT INTO ${this.table} (consumer_group, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [consumerGroup, eventId]);
      if (claimed.rowCount === 0) throw new DuplicateDelivery();
      return { status: 'processed', result: await effect(tx) };
    };
    try {
      return db instanceof Pool ? await withTransaction(db, inTransaction) : await onClient(db, inTransaction);
    } catch (error) {
      if (error instanceof DuplicateDelivery) return { status: 'duplicate' };
      throw error;
    }
  }

  /** Deletes inbox rows older than the retention (which must exceed every redelivery window). */
  async prune(db: Pool | PoolClient, olderThanMs: number): Promise<number> {
    const result = await db.query(`DELETE FROM ${this.table} WHERE processed_at < now() - make_interval(secs => $1::double precision / 1000)`, [olderThanMs]);
    return result.rowCount ?? 0;
  }
}

/** Thrown inside the transaction so that it rolls back; never escapes `handleOnce`. */
class DuplicateDelivery extends Error {}

async function onClient<T>(client: PoolClient, work: (tx: PoolClient) => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
}
