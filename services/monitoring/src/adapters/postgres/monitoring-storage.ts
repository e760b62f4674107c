// The monitoring service's Postgres side (schema `monitoring`): monitors (plain rows: a monitor is
// configuration that is replaced as a whole, its history is not a business fact) and alerts.
//
// Alerts are facts other services act on, so every change of one is appended to the event store
// (`alert-<id>` streams: AlertRaised, AlertAcknowledged, AlertResolved) with its Kafka message in
// the transactional outbox, in the same transaction as the row of the `alerts` read table. A
// partial unique index keeps at most one open (or acknowledged) alert per monitor and model
// version, even with two replicas evaluating at once.
import type { Pool, PoolClient } from 'pg';
import { migrateEventSourcingSchema, PostgresEventStore, withTransaction, type OutboxMessage } from '@loopline/eventsourcing';
import { IllegalStateError, NotFoundError, UnavailableError } from '@loopline/errors';
import type { MonitorSpec } from '../../domain/monitor/monitor';

export const monitoringSchema = 'monitoring';

export type AlertStatus = 'open' | 'acknowledged' | 'resolved';
export type AlertKindName = 'drift' | 'performance';
export type ResolutionName = 'recovered' | 'model_replaced' | 'dismissed';

export interface AlertRecord {
  readonly alertId: string;
  readonly kind: AlertKindName;
  readonly modelName: string;
  readonly modelVersion: number;
  readonly monitorName: string;
  readonly severity: 'warning' | 'critical';
  readonly status: AlertStatus;
  readonly evidence: Record<string, unknown>;
  readonly detectedAt: string;
  readonly acknowledgedAt?: string;
  readonly acknowledgedBy?: string;
  readonly acknowledgeNote?: string;
  readonly resolvedAt?: string;
  readonly resolution?: ResolutionName;
  readonly resolvedBy?: string;
  readonly resolutionReason?: string;
}

export interface MonitorRecord {
  readonly spec: MonitorSpec;
  /** Whether the service created it for a model that started predicting. */
  readonly automatic: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Where evaluation stands: the version followed, the last window judged, the last result. */
  readonly state: MonitorState;
}

export interface MonitorState {
  /** The version the monitor evaluated last (an alias move resolves its alerts). */
  readonly modelVersion?: number;
  /** Count windows: index of the last window evaluated, per version. */
  readonly lastCountWindow?: number;
  /** Time windows: end (ms) of the last window evaluated. */
  readonly lastWindowEndMs?: number;
  readonly lastEvaluation?: Record<string, unknown>;
  readonly lastEvaluatedAt?: string;
}

/** One alert change: the row update and the event with its outbox message. */
export interface AlertChange {
  readonly eventId: string;
  readonly type: 'AlertRaised' | 'AlertRenotified' | 'AlertAcknowledged' | 'AlertResolved';
  readonly data: Record<string, unknown>;
  readonly actor: string;
  readonly time: Date;
  readonly outbox: OutboxMessage | null;
}

export class MonitoringStorage {
  readonly events: PostgresEventStore | undefined;
  private migration: Promise<void> | undefined;

  constructor(readonly pool: Pool | undefined) {
    if (pool) this.events = new PostgresEventStore({ pool, schema: monitoringSchema, notifyOutbox: true });
  }

  ready(): Promise<void> {
    const pool = this.pool;
    if (!pool) return Promise.reject(new UnavailableError('the monitoring database is not configured (LOOPLINE_POSTGRES_URL)'));
    this.migration ??= (async () => {
      await migrateEventSourcingSchema(pool, monitoringSchema);
      await pool.query(`
        CREATE TABLE IF NOT EXISTS ${monitoringSchema}.monitors (
          name        text PRIMARY KEY,
          model_name  text NOT NULL,
          spec        jsonb NOT NULL,
          automatic   boolean NOT NULL DEFAULT false,
          state       jsonb NOT NULL DEFAULT '{}',
          created_at  timestamptz NOT NULL DEFAULT now(),
          updated_at  timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE IF NOT EXISTS ${monitoringSchema}.alerts (
          alert_id        uuid PRIMARY KEY,
          kind            text NOT NULL,
          model_name      text NOT NULL,
          model_version   integer NOT NULL,
          monitor_name    text NOT NULL,
          severity        text NOT NULL,
          status          text NOT NULL,
          evidence        jsonb NOT NULL,
          detected_at     timestamptz NOT NULL,
          acknowledged_at timestamptz,
          acknowledged_by text,
          acknowledge_note text,
          resolved_at     timestamptz,
          resolution      text,
          resolved_by     text,
          resolution_reason text
        );
        CREATE UNIQUE INDEX IF NOT EXISTS alerts_one_open_per_monitor_version ON ${monitoringSchema}.alerts (monitor_name, model_version) WHERE status <> 'resolved';
        CREATE INDEX IF NOT EXISTS alerts_by_model ON ${monitoringSchema}.alerts (model_name, detected_at DESC);
        ALTER TABLE ${monitoringSchema}.alerts ADD COLUMN IF NOT EXISTS notified_at timestamptz;
      `);
    })().catch((error: unknown) => {
      this.migration = undefined;
      throw new UnavailableError(`the monitoring database is unavailable: ${error instanceof Error ? error.message : String(error)}`);
    });
    return this.migration;
  }

  private async db(): Promise<Pool> {
    await this.ready();
    return this.pool!;
  }

  // ------------------------------------------------------------------------------------------
  // monitors

  async putMonitor(spec: MonitorSpec, automatic: boolean): Promise<MonitorRecord> {
    const pool = await this.db();
    const { rows } = await pool.query<MonitorRow>(
      `INSERT INTO ${monitoringSchema}.monitors (name, model_name, spec, automatic) VALUES ($1, $2, $3, $4)
       ON CONFLICT (name) DO UPDATE SET model_name = EXCLUDED.model_name, spec = EXCLUDED.spec, automatic = EXCLUDED.automatic, updated_at = now(),
         state = CASE WHEN ${monitoringSchema}.monitors.spec->'window' = EXCLUDED.spec->'window' AND ${monitoringSchema}.monitors.model_name = EXCLUDED.model_name
                      THEN ${monitoringSchema}.monitors.state ELSE '{}'::jsonb END
       RETURNING *`,
      [spec.name, spec.modelName, JSON.stringify(spec), automatic],
    );
    return monitorOf(rows[0]!);
  }

  /** Creates the monitor only if no monitor of that name exists (default monitors never overwrite). */
  async createMonitorIfAbsent(spec: MonitorSpec): Promise<boolean> {
    const pool = await this.db();
    const { rowCount } = await pool.query(`INSERT INTO ${monitoringSchema}.monitors (name, model_name, spec, automatic) VALUES ($1, $2, $3, true) ON CONFLICT (name) DO NOTHING`, [
      spec.name,
      spec.modelName,
      JSON.stringify(spec),
    ]);
    return (rowCount ?? 0) > 0;
  }

  async monitor(name: string): Promise<MonitorRecord> {
    const pool = await this.db();
    const { rows } = await pool.query<MonitorRow>(`SELECT * FROM ${monitoringSchema}.monitors WHERE name = $1`, [name]);
    if (!rows[0]) throw new NotFoundError(`monitor "${name}" does not exist`, { monitor: name });
    return monitorOf(rows[0]);
  }

  async monitors(modelName?: string): Promise<MonitorRecord[]> {
    const pool = await this.db();
    const { rows } = modelName
      ? await pool.query<MonitorRow>(`SELECT * FROM ${monitoringSchema}.monitors WHERE model_name = $1 ORDER BY name`, [modelName])
      : await pool.query<MonitorRow>(`SELECT * FROM ${monitoringSchema}.monitors ORDER BY name`);
    return rows.map(monitorOf);
  }

  async deleteMonitor(name: string): Promise<void> {
    const pool = await this.db();
    const { rowCount } = await pool.query(`DELETE FROM ${monitoringSchema}.monitors WHERE name = $1`, [name]);
    if (!rowCount) throw new NotFoundError(`monitor "${name}" does not exist`, { monitor: name });
  }

  async saveState(name: string, state: MonitorState): Promise<void> {
    const pool = await this.db();
    await pool.query(`UPDATE ${monitoringSchema}.monitors SET state = $2 WHERE name = $1`, [name, JSON.stringify(state)]);
  }

  // ------------------------------------------------------------------------------------------
  // alerts

  async alerts(filter: { readonly modelName?: string; readonly status?: AlertStatus; readonly monitorName?: string; readonly limit: number }): Promise<AlertRecord[]> {
    const pool = await this.db();
    const where: string[] = [];
    const values: unknown[] = [];
    if (filter.modelName) where.push(`model_name = $${values.push(filter.modelName)}`);
    if (filter.status) where.push(`status = $${values.push(filter.status)}`);
    if (filter.monitorName) where.push(`monitor_name = $${values.push(filter.monitorName)}`);
    const { rows } = await pool.query<AlertRow>(
      `SELECT * FROM ${monitoringSchema}.alerts ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY detected_at DESC, alert_id LIMIT $${values.push(filter.limit)}`,
      values,
    );
    return rows.map(alertOf);
  }

  async alert(alertId: string): Promise<AlertRecord> {
    const pool = await this.db();
    assertAlertIdShape(alertId);
    const { rows } = await pool.query<AlertRow>(`SELECT * FROM ${monitoringSchema}.alerts WHERE alert_id = $1`, [alertId]);
    if (!rows[0]) throw new NotFoundError(`alert "${alertId}" does not exist`, { alertId });
    return alertOf(rows[0]);
  }

  /** The unresolved alerts of a monitor (any version). */
  async unresolvedAlerts(monitorName: string): Promise<AlertRecord[]> {
    const pool = await this.db();
    const { rows } = await pool.query<AlertRow>(`SELECT * FROM ${monitoringSchema}.alerts WHERE monitor_name = $1 AND status <> 'resolved' ORDER BY detected_at`, [monitorName]);
    return rows.map(alertOf);
  }

  /**
   * Inserts a new open alert with its event and outbox message; returns false (nothing written)
   * when the monitor already has an unresolved alert for that version.
   */
  async raiseAlert(alert: AlertRecord, change: AlertChange): Promise<boolean> {
    const pool = await this.db();
    return withTransaction(pool, async (tx) => {
      const { rowCount } = await tx.query(
        `INSERT INTO ${monitoringSchema}.alerts (alert_id, kind, model_name, model_version, monitor_name, severity, status, evidence, detected_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8) ON CONFLICT DO NOTHING`,
        [alert.alertId, alert.kind, alert.modelName, alert.modelVersion, alert.monitorName, alert.severity, JSON.stringify(alert.evidence), alert.detectedAt],
      );
      if (!rowCount) return false;
      await this.append(tx, alert.alertId, change, 'no_stream');
      return true;
    });
  }

  /**
   * Announces an open alert again (its outbox message in `change`) unless it was announced after
   * `lastNotifiedBefore`; false when it was, or is resolved meanwhile.
   */
  async renotifyAlert(alertId: string, lastNotifiedBefore: Date, change: AlertChange): Promise<boolean> {
    const pool = await this.db();
    return withTransaction(pool, async (tx) => {
      const { rowCount } = await tx.query(
        `UPDATE ${monitoringSchema}.alerts SET notified_at = $2 WHERE alert_id = $1 AND status <> 'resolved' AND COALESCE(notified_at, detected_at) <= $3`,
        [alertId, change.time, lastNotifiedBefore],
      );
      if (!rowCount) return false;
      await this.append(tx, alertId, change, 'any');
      return true;
    });
  }

  async acknowledgeAlert(alertId: string, actor: string, note: string, change: AlertChange): Promise<AlertRecord> {
    assertAlertIdShape(alertId);
    const pool = await this.db();
    await withTransaction(pool, async (tx) => {
      const { rows } = await tx.query<AlertRow>(`SELECT * FROM ${monitoringSchema}.alerts WHERE alert_id = $1 FOR UPDATE`, [alertId]);
      if (!rows[0]) throw new NotFoundError(`alert "${alertId}" does not exist`, { alertId });
      if (rows[0].status === 'resolved') throw new IllegalStateError(`alert "${alertId}" is resolved; it cannot be acknowledged`, { alertId, status: rows[0].status });
      await tx.query(`UPDATE ${monitoringSchema}.alerts SET status = 'acknowledged', acknowledged_at = $2, acknowledged_by = $3, acknowledge_note = $4 WHERE alert_id = $1`, [
        alertId,
        change.time,
        actor,
        note,
      ]);
      await this.append(tx, alertId, change, 'any');
    });
    return this.alert(alertId);
  }

  /** Resolves an unresolved alert; a resolved one is an IllegalStateError. */
  async resolveAlert(alertId: string, resolution: ResolutionName, actor: string, reason: string, change: AlertChange): Promise<AlertRecord> {
    assertAlertIdShape(alertId);
    const pool = await this.db();
    await withTransaction(pool, async (tx) => {
      const { rows } = await tx.query<AlertRow>(`SELECT * FROM ${monitoringSchema}.alerts WHERE alert_id = $1 FOR UPDATE`, [alertId]);
      if (!rows[0]) throw new NotFoundError(`alert "${alertId}" does not exist`, { alertId });
      if (rows[0].status === 'resolved') throw new IllegalStateError(`alert "${alertId}" is already resolved`, { alertId, resolution: rows[0].resolution });
      await tx.query(
        `UPDATE ${monitoringSchema}.alerts SET status = 'resolved', resolved_at = $2, resolution = $3, resolved_by = $4, resolution_reason = $5 WHERE alert_id = $1`,
        [alertId, change.time, resolution, actor, reason],
      );
      await this.append(tx, alertId, change, 'any');
    });
    return this.alert(alertId);
  }

  private async append(tx: PoolClient, alertId: string, change: AlertChange, expected: 'no_stream' | 'any'): Promise<void> {
    await this.events!.appendToStream(
      `alert-${alertId}`,
      [{ eventId: change.eventId, type: change.type, data: change.data, metadata: { time: change.time.toISOString(), actor: change.actor, correlationId: alertId } }],
      { expectedVersion: expected, transaction: tx, outbox: change.outbox ? [change.outbox] : [] },
    );
  }
}

interface MonitorRow {
  name: string;
  spec: MonitorSpec;
  automatic: boolean;
  state: MonitorState;
  created_at: Date;
  updated_at: Date;
}

function monitorOf(row: MonitorRow): MonitorRecord {
  return { spec: row.spec, automatic: row.automatic, state: row.state, createdAt: row.created_at.toISOString(), updatedAt: row.updated_at.toISOString() };
}

interface AlertRow {
  alert_id: string;
  kind: AlertKindName;
  model_name: string;
  model_version: number;
  monitor_name: string;
  severity: 'warning' | 'critical';
  status: AlertStatus;
  evidence: Record<string, unknown>;
  detected_at: Date;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  acknowledge_note: string | null;
  resolved_at: Date | null;
  resolution: ResolutionName | null;
  resolved_by: string | null;
  resolution_reason: string | null;
}

function alertOf(row: AlertRow): AlertRecord {
  return {
    alertId: row.alert_id,
    kind: row.kind,
    modelName: row.model_name,
    modelVersion: row.model_version,
    monitorName: row.monitor_name,
    severity: row.severity,
    status: row.status,
    evidence: row.evidence,
    detectedAt: row.detected_at.toISOString(),
    ...(row.acknowledged_at ? { acknowledgedAt: row.acknowledged_at.toISOString() } : {}),
    ...(row.acknowledged_by ? { acknowledgedBy: row.acknowledged_by } : {}),
    ...(row.acknowledge_note ? { acknowledgeNote: row.acknowledge_note } : {}),
    ...(row.resolved_at ? { resolvedAt: row.resolved_at.toISOString() } : {}),
    ...(row.resolution ? { resolution: row.resolution } : {}),
    ...(row.resolved_by ? { resolvedBy: row.resolved_by } : {}),
    ...(row.resolution_reason ? { resolutionReason: row.resolution_reason } : {}),
  };
}

/** Alert ids are UUIDs (a \`uuid\` column): anything else names no alert, and must not reach the cast. */
function assertAlertIdShape(alertId: string): void {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(alertId)) throw new NotFoundError(`alert "${alertId}" does not exist`, { alertId });
}
