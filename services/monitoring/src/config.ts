import { resolve } from 'node:path';
import { z } from 'zod';
import { collectProblems, ConfigError, loadConfig as parseEnv, loadServiceConfig, type ServiceConfig } from '@loopline/config';

const positiveInt = z.coerce.number().int().positive();
const flag = z.enum(['true', 'false']).transform((value) => value === 'true');

/** The monitoring service's own settings, under `LOOPLINE_MONITORING_` (defaults in the README). */
const monitoringSchema = z.object({
  LOOPLINE_REGISTRY_URL: z.string().url().default('http://127.0.0.1:7005'),
  LOOPLINE_FEATURE_STORE_URL: z.string().url().default('http://127.0.0.1:7002'),
  LOOPLINE_MONITORING_CONSUMER_GROUP: z.string().regex(/^[A-Za-z0-9._-]{1,200}$/).default('loopline-monitoring-log'),
  LOOPLINE_MONITORING_CLICKHOUSE_DATABASE: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/).default('monitoring'),
  LOOPLINE_MONITORING_INSERT_ROWS: positiveInt.max(1_000_000).default(50_000),
  LOOPLINE_MONITORING_FLUSH_MS: positiveInt.max(60_000).default(500),
  LOOPLINE_MONITORING_EVALUATION_INTERVAL_MS: positiveInt.max(3_600_000).default(5_000),
  LOOPLINE_MONITORING_DEFAULT_MONITORS: flag.default('true'),
  LOOPLINE_MONITORING_DEFAULT_WINDOW_SIZE: positiveInt.default(1_000),
  LOOPLINE_MONITORING_TOPIC_REPLICATION_FACTOR: positiveInt.max(16).default(1),
});

export interface MonitoringSettings {
  readonly registryUrl: string;
  readonly featureStoreUrl: string;
  /** Kafka consumer group of the prediction-log and label sink. */
  readonly consumerGroup: string;
  /** ClickHouse database of the prediction log, labels, reference rows. */
  readonly database: string;
  /** Rows per ClickHouse insert (the sink flushes earlier after `flushMs`). */
  readonly insertRows: number;
  readonly flushMs: number;
  /** How often monitors are checked for a filled (count) or closed (time) window. */
  readonly evaluationIntervalMs: number;
  /** Create a drift (+ accuracy once labels exist) monitor for every model that starts predicting. */
  readonly defaultMonitors: boolean;
  /** Count window of the default monitors. */
  readonly defaultWindowSize: number;
  readonly topicReplicationFactor: number;
  /** Scratch folder (reference Parquet downloads). */
  readonly workDir: string;
}

export type MonitoringConfig = ServiceConfig & { readonly monitoring: MonitoringSettings };

/** Read once at start; the only reader of `process.env` in this service. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): MonitoringConfig {
  const problems: string[] = [];
  const service = collectProblems(problems, () => loadServiceConfig('monitoring', env));
  const own = collectProblems(problems, () => parseEnv(monitoringSchema, env));
  if (service === undefined || own === undefined) throw new ConfigError(problems);
  return {
    ...service,
    monitoring: {
      registryUrl: own.LOOPLINE_REGISTRY_URL.replace(/\/+$/, ''),
      featureStoreUrl: own.LOOPLINE_FEATURE_STORE_URL.replace(/\/+$/, ''),
      consumerGroup: own.LOOPLINE_MONITORING_CONSUMER_GROUP,
      database: own.LOOPLINE_MONITORING_CLICKHOUSE_DATABASE,
      insertRows: own.LOOPLINE_MONITORING_INSERT_ROWS,
      flushMs: own.LOOPLINE_MONITORING_FLUSH_MS,
      evaluationIntervalMs: own.LOOPLINE_MONITORING_EVALUATION_INTERVAL_MS,
      defaultMonitors: own.LOOPLINE_MONITORING_DEFAULT_MONITORS,
      defaultWindowSize: own.LOOPLINE_MONITORING_DEFAULT_WINDOW_SIZE,
      topicReplicationFactor: own.LOOPLINE_MONITORING_TOPIC_REPLICATION_FACTOR,
      workDir: resolve(env.LOOPLINE_DATA_DIR || '.loopline', 'monitoring'),
    },
  };
}

