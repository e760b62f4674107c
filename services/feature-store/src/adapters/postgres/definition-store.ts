// Definitions in Postgres: one event stream per definition (the history, published through the
// outbox) and the `catalog` table, written in the same transaction as the events, from which the
// service reads every applied version.
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { withTransaction, type NewEvent, type PostgresEventStore } from '@loopline/eventsourcing';
import type { AppliedEntity, AppliedFeatureService, AppliedFeatureView, Catalog } from '../../domain/definitions/catalog';
import type { DefinitionEvent, DefinitionKind } from '../../domain/definitions/definition-stream';
import type { AppendMetadata, DefinitionStore } from '../../application/ports';
import { featureViewOutboxMessage } from '../kafka/contract-messages';

interface CatalogRow {
  kind: DefinitionKind;
  name: string;
  version: number;
  hash: string;
  definition: never;
  resolved: never;
  actor: string;
  applied_at: Date;
}

export class PostgresDefinitionStore implements DefinitionStore {
  constructor(
    private readonly pool: Pool,
    private readonly events: PostgresEventStore,
  ) {}

  async catalog(): Promise<Catalog> {
    const { rows } = await this.pool.query<CatalogRow>('SELECT * FROM feature_store.catalog ORDER BY kind, name, version');
    const entities = new Map<string, AppliedEntity[]>();
    const featureViews = new Map<string, AppliedFeatureView[]>();
    const featureServices = new Map<string, AppliedFeatureService[]>();
    const push = <T>(map: Map<string, T[]>, name: string, value: T) => {
      const list = map.get(name) ?? [];
      list.push(value);
      map.set(name, list);
    };
    for (const row of rows) {
      const base = { name: row.name, version: row.version, hash: row.hash, definition: row.definition, actor: row.actor, appliedAt: row.applied_at.toISOString() };
      if (row.kind === 'entity') push(entities, row.name, base);
      else if (row.kind === 'feature_view') push(featureViews, row.name, base);
      else push(featureServices, row.name, { ...base, resolved: row.resolved });
    }
    return { entities, featureViews, featureServices };
  }

  async append(streams: readonly { streamId: string; expectedVersion: number; events: readonly DefinitionEvent[] }[], metadata: AppendMetadata): Promise<void> {
    await withTransaction(this.pool, async (tx) => {
      for (const stream of streams) {
        const events: NewEvent<DefinitionEvent>[] = stream.events.map((event) => ({
          ...event,
          eventId: randomUUID(),
          metadata: { time: metadata.time.toISOString(), actor: metadata.actor, correlationId: metadata.correlationId },
        }));
        const outbox = events.flatMap((event) => (event.type === 'FeatureViewApplied' ? [featureViewOutboxMessage(event)] : []));
        await this.events.appendToStream(stream.streamId, events, { expectedVersion: stream.expectedVersion, transaction: tx, outbox });
        for (const event of stream.events) {
          const kind: DefinitionKind = event.type === 'EntityApplied' ? 'entity' : event.type === 'FeatureViewApplied' ? 'feature_view' : 'feature_service';
          await tx.query(
            `INSERT INTO feature_store.catalog (kind, name, version, hash, definition, resolved, actor, applied_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
            [
              kind,
              event.data.name,
              event.data.version,
              event.data.hash,
              JSON.stringify(event.data.definition),
              event.type === 'FeatureServiceApplied' ? JSON.stringify(event.data.resolved) : null,
              event.data.actor,
              event.data.appliedAt,
            ],
          );
        }
      }
    });
  }
}
