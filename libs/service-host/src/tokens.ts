import type { ClickHouseClient } from '@clickhouse/client';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';

/**
 * Injection tokens of what the host gives every service module. Plain symbols, so importing them
 * loads no framework code (main.ts imports this library before telemetry has started).
 */
export const SERVICE_CONFIG = Symbol('loopline:service-config');
export const SERVICE_LOGGER = Symbol('loopline:service-logger');
export const SERVICE_METRICS = Symbol('loopline:service-metrics');
export const INFRASTRUCTURE = Symbol('loopline:infrastructure');

/**
 * The clients of the dependencies the service declared and configured. A dependency that is not
 * configured is absent here and reported by readiness; code that needs it should fail its
 * request with a clear error rather than assume it.
 */
export interface Infrastructure {
  readonly postgres?: Pool;
  readonly kafka?: Kafka;
  readonly clickhouse?: ClickHouseClient;
}
