import type { Pool } from 'pg';
import { runClosedLoop, type LoopResult } from './measure';

/**
 * The floor to compare appends with: one single-row JSONB INSERT per transaction (autocommit),
 * on the same server and durability settings, same pool, same number of connections.
 */
export async function rawCommitRate(pool: Pool, label: string, connections: number, durationMs: number): Promise<LoopResult> {
  await pool.query('CREATE TABLE IF NOT EXISTS raw_commits (id bigserial PRIMARY KEY, payload jsonb NOT NULL)');
  const payload = JSON.stringify({ model: 'churn', version: 1, artifact: 'sha256:0123456789abcdef', metrics: { auc: 0.91 } });
  return runClosedLoop(label, durationMs, connections, async () => {
    await pool.query('INSERT INTO raw_commits (payload) VALUES ($1)', [payload]);
  });
}
