import type { Pool, PoolClient } from 'pg';

/**
 * Runs `work` in a transaction on a client of its own and commits, or rolls back and rethrows.
 * A client whose rollback fails is destroyed rather than returned to the pool in an unknown state.
 */
export async function withTransaction<T>(pool: Pool, work: (tx: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: unknown) => {
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    });
    throw error;
  } finally {
    client.release(broken);
  }
}

/**
 * Runs `work` inside the caller's open transaction behind a savepoint, so a failed statement
 * (a unique violation we want to inspect) does not abort the caller's whole transaction.
 */
export async function withSavepoint<T>(tx: PoolClient, name: string, work: () => Promise<T>): Promise<T> {
  await tx.query(`SAVEPOINT ${name}`);
  try {
    const result = await work();
    await tx.query(`RELEASE SAVEPOINT ${name}`);
    return result;
  } catch (error) {
    await tx.query(`ROLLBACK TO SAVEPOINT ${name}`);
    throw error;
  }
}
