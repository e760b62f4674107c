// Dataset versions the feature store learned of from ingestion's `DatasetVersionCreated` events:
// which version of a source is the latest, for materializations requested without one.
import type { Pool, PoolClient } from 'pg';
import type { KnownDatasetVersions, TrainingSetRecord, TrainingSetStore } from '../../application/ports';

export class PostgresKnownDatasetVersions implements KnownDatasetVersions {
  constructor(private readonly db: Pool | PoolClient) {}

  async record(source: string, versionId: string, rowCount: number, createdAt: Date): Promise<void> {
    await this.db.query(
      `INSERT INTO feature_store.dataset_versions (source, version_id, row_count, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
      [source, versionId, rowCount, createdAt],
    );
  }

  async latest(source: string): Promise<{ readonly versionId: string } | undefined> {
    const { rows } = await this.db.query<{ version_id: string }>(
      `SELECT version_id FROM feature_store.dataset_versions WHERE source = $1 ORDER BY created_at DESC, version_id LIMIT 1`,
      [source],
    );
    return rows[0] && { versionId: rows[0].version_id };
  }
}

export class PostgresTrainingSetStore implements TrainingSetStore {
  constructor(private readonly pool: Pool) {}

  async save(record: TrainingSetRecord): Promise<TrainingSetRecord> {
    // Content-addressed: the same bytes are the same training set; the first record stays.
    await this.pool.query(
      `INSERT INTO feature_store.training_sets (id, row_count, recipe, artifact, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`,
      [record.id, record.rowCount, JSON.stringify(record.recipe), JSON.stringify(record.artifact), record.createdAt],
    );
    return (await this.get(record.id))!;
  }

  async get(id: string): Promise<TrainingSetRecord | undefined> {
    if (!/^[0-9a-f]{64}$/.test(id)) return undefined;
    const { rows } = await this.pool.query<{ id: string; row_count: string; recipe: TrainingSetRecord['recipe']; artifact: TrainingSetRecord['artifact']; created_at: Date }>(
      'SELECT * FROM feature_store.training_sets WHERE id = $1',
      [id],
    );
    const row = rows[0];
    return row && { id: row.id, rowCount: Number(row.row_count), recipe: row.recipe, artifact: row.artifact, createdAt: row.created_at.toISOString() };
  }
}
