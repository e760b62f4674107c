// The online store in Postgres: one row per (view version, entity) with the latest values as
// JSONB. Writes are guarded by event time (a row never replaces a newer one), so replays and
// out-of-order materializations never move a value back in time; reads are one statement by
// primary key for any number of keys. A statement that wrote rows also sends a NOTIFY on
// `onlineChannel` with the view version, delivered when it commits: every replica's caches
// listen (online-invalidations.ts).
import type { Pool } from 'pg';
import type { OnlineRow } from '../../domain/online/online-values';
import type { FeatureRow, OnlineKey, OnlineStore } from '../../application/ports';
import { onlineChannel } from './online-invalidations';

const batchSize = 2_000;

export class PostgresOnlineStore implements OnlineStore {
  constructor(private readonly pool: Pool) {}

  async upsert(view: string, version: number, rows: readonly (FeatureRow & { readonly entityKey: string })[], datasetVersionId: string): Promise<number> {
    let written = 0;
    for (let start = 0; start < rows.length; start += batchSize) {
      const batch = rows.slice(start, start + batchSize);
      const result = await this.pool.query<{ written: number }>(
        `WITH written AS (
           INSERT INTO feature_store.online_features AS stored (view_name, view_version, entity_key, event_time, feature_values, dataset_version_id)
           SELECT $1::text, $2::int, key, to_timestamp(time_ms / 1000.0), feature_values, $5
             FROM unnest($3::text[], $4::float8[], $6::jsonb[]) AS input(key, time_ms, feature_values)
           ON CONFLICT (view_name, view_version, entity_key) DO UPDATE
             SET event_time = excluded.event_time, feature_values = excluded.feature_values,
                 dataset_version_id = excluded.dataset_version_id, updated_at = now()
             WHERE stored.event_time <= excluded.event_time
               AND (stored.event_time < excluded.event_time OR stored.feature_values IS DISTINCT FROM excluded.feature_values)
           RETURNING 1)
         SELECT count(*)::int AS written,
                CASE WHEN count(*) > 0 THEN pg_notify($7, json_build_array($1::text, $2::int)::text) END AS notified
           FROM written`,
        [view, version, batch.map((row) => row.entityKey), batch.map((row) => row.eventTimeMs), datasetVersionId, batch.map((row) => JSON.stringify(row.values)), onlineChannel],
      );
      written += result.rows[0]?.written ?? 0;
    }
    return written;
  }

  async read(keys: readonly OnlineKey[]): Promise<Map<string, OnlineRow>> {
    const found = new Map<string, OnlineRow>();
    if (keys.length === 0) return found;
    const { rows } = await this.pool.query<{ view_name: string; view_version: number; entity_key: string; time_ms: number; feature_values: OnlineRow['values'] }>({
      // Named, so pg prepares it once per connection.
      name: 'feature_store_online_read',
      text: `SELECT o.view_name, o.view_version, o.entity_key, (extract(epoch FROM o.event_time) * 1000)::float8 AS time_ms, o.feature_values
               FROM unnest($1::text[], $2::int[], $3::text[]) AS k(view_name, view_version, entity_key)
               JOIN feature_store.online_features o USING (view_name, view_version, entity_key)`,
      values: [keys.map((key) => key.view), keys.map((key) => key.version), keys.map((key) => key.entityKey)],
    });
    for (const row of rows) found.set(onlineKeyText(row.view_name, row.view_version, row.entity_key), { eventTimeMs: Math.round(row.time_ms), values: row.feature_values });
    return found;
  }
}

export function onlineKeyText(view: string, version: number, entityKey: string): string {
  return `${view}@${version}\u0000${entityKey}`;
}
