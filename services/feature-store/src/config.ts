import { resolve } from 'node:path';
import { z } from 'zod';
import { loadArtifactStoreSettings, type ArtifactStoreSettings } from '@loopline/artifacts';
import { collectProblems, ConfigError, featureStoreOnlinePorts, loadConfig as parseEnv, loadServiceConfig, type ServiceConfig } from '@loopline/config';
import { datasetAccessModes, type DatasetAccess } from './application/ports';

const positiveInt = z.coerce.number().int().positive();
/** 0: any free port (tests). */
const port = z.coerce.number().int().min(0).max(65535);
const flag = z.enum(['true', 'false']).transform((value) => value === 'true');

/**
 * The feature store's own settings, under `LOOPLINE_FEATURE_STORE_`. Artifacts (training sets)
 * live under `<dataDir>/artifacts/feature-store` unless `LOOPLINE_FEATURE_STORE_ARTIFACT_STORE=s3`.
 */
const featureStoreSchema = z.object({
  LOOPLINE_INGESTION_URL: z.string().url().default('http://127.0.0.1:7001'),
  LOOPLINE_FEATURE_STORE_DATASET_ACCESS: z.enum(datasetAccessModes).optional(),
  LOOPLINE_FEATURE_STORE_CLICKHOUSE_DATASET_URL: z.string().url().optional(),
  LOOPLINE_FEATURE_STORE_CONSUME_DATASET_EVENTS: flag.default('true'),
  LOOPLINE_FEATURE_STORE_MATERIALIZATION_TIMEOUT_MS: positiveInt.default(600_000),
  LOOPLINE_FEATURE_STORE_CACHE_ROWS_PER_VIEW: positiveInt.default(100_000),
  LOOPLINE_FEATURE_STORE_TOPIC_REPLICATION_FACTOR: positiveInt.max(16).default(1),
  LOOPLINE_FEATURE_STORE_CONSUMER_GROUP: z.string().regex(/^[A-Za-z0-9._-]{1,200}$/).default('loopline-feature-store-materializer'),
  LOOPLINE_FEATURE_STORE_TASKS: flag.default('true'),
  LOOPLINE_FEATURE_STORE_TASK_CONSUMER_GROUP: z.string().regex(/^[A-Za-z0-9._-]{1,200}$/).default('feature-store-task-executor'),
  LOOPLINE_FEATURE_STORE_TASK_PIPELINES: z.string().optional(),
  LOOPLINE_FEATURE_STORE_TASK_CONCURRENCY: positiveInt.max(16).default(2),
  LOOPLINE_FEATURE_STORE_ONLINE_SERVER: flag.default('true'),
  LOOPLINE_FEATURE_STORE_ONLINE_HTTP_PORT: port.default(featureStoreOnlinePorts.http),
  LOOPLINE_FEATURE_STORE_ONLINE_GRPC_PORT: port.default(featureStoreOnlinePorts.grpc),
  LOOPLINE_FEATURE_STORE_ONLINE_NICE: z.coerce.number().int().min(-20).max(19).default(-10),
});

export interface FeatureStoreSettings {
  /** Absolute root of the local artifact store; also holds downloads and work files (`.incoming/`). */
  readonly artifactRoot: string;
  readonly artifactStore: ArtifactStoreSettings;
  /** Dataset versions downloaded from ingestion, kept by digest. */
  readonly datasetFolder: string;
  readonly ingestionUrl: string;
  /**
   * How the offline store reaches dataset versions: `local-files` (downloaded, read with `file()`;
   * embedded ClickHouse only) or `ingestion-url` (ClickHouse fetches them from ingestion with
   * `url()`). Default: `local-files` with the embedded chDB, `ingestion-url` with a server.
   */
  readonly datasetAccess: DatasetAccess;
  /** The ingestion service's base URL as ClickHouse reaches it (`ingestion-url`); default `ingestionUrl`. */
  readonly clickhouseDatasetUrl: string;
  /** Materialize on every `DatasetVersionCreated` (consume ingestion's topic). */
  readonly consumeDatasetEvents: boolean;
  readonly materializationTimeoutMs: number;
  readonly cacheRowsPerView: number;
  readonly topicReplicationFactor: number;
  /** Kafka consumer group of the dataset-event subscription. */
  readonly consumerGroup: string;
  /** Execute pipeline tasks (`materialize`, `build_training_set`) sent by orchestration. */
  readonly executeTasks: boolean;
  readonly taskConsumerGroup: string;
  /** Only tasks of these pipelines (null: every pipeline). */
  readonly taskPipelines: readonly string[] | null;
  /** Pipeline tasks executed at once. */
  readonly taskConcurrency: number;
  /** The online server: online reads on ports of their own, served by a worker thread. */
  readonly onlineServer: { readonly enabled: boolean; readonly httpPort: number; readonly grpcPort: number; readonly nice: number };
}

export type FeatureStoreConfig = ServiceConfig & { readonly featureStore: FeatureStoreSettings };

/** Read once at start; the only reader of `process.env` in this service. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): FeatureStoreConfig {
  const problems: string[] = [];
  const service = collectProblems(problems, () => loadServiceConfig('feature-store', env));
  const own = collectProblems(problems, () => parseEnv(featureStoreSchema, env));
  const dataDir = resolve(env.LOOPLINE_DATA_DIR || '.loopline');
  const artifactRoot = resolve(dataDir, 'artifacts', 'feature-store');
  const artifactStore = collectProblems(problems, () =>
    loadArtifactStoreSettings(env, { envPrefix: 'LOOPLINE_FEATURE_STORE_', localRoot: artifactRoot, defaultS3Prefix: 'feature-store/' }),
  );
  if (service !== undefined && own !== undefined && service.clickhouseUrl && own.LOOPLINE_FEATURE_STORE_DATASET_ACCESS === 'local-files') {
    // A ClickHouse server cannot read the files this process downloads: refuse at start, not at the first materialization.
    problems.push('LOOPLINE_FEATURE_STORE_DATASET_ACCESS=local-files needs the embedded ClickHouse (chDB); with LOOPLINE_CLICKHOUSE_URL use ingestion-url');
  }
  if (service === undefined || own === undefined || artifactStore === undefined || problems.length > 0) throw new ConfigError(problems);
  return {
    ...service,
    featureStore: {
      artifactRoot,
      artifactStore,
      datasetFolder: resolve(dataDir, 'feature-store', 'datasets'),
      ingestionUrl: own.LOOPLINE_INGESTION_URL,
      datasetAccess: own.LOOPLINE_FEATURE_STORE_DATASET_ACCESS ?? (service.clickhouseUrl ? 'ingestion-url' : 'local-files'),
      clickhouseDatasetUrl: own.LOOPLINE_FEATURE_STORE_CLICKHOUSE_DATASET_URL ?? own.LOOPLINE_INGESTION_URL,
      consumeDatasetEvents: own.LOOPLINE_FEATURE_STORE_CONSUME_DATASET_EVENTS,
      materializationTimeoutMs: own.LOOPLINE_FEATURE_STORE_MATERIALIZATION_TIMEOUT_MS,
      cacheRowsPerView: own.LOOPLINE_FEATURE_STORE_CACHE_ROWS_PER_VIEW,
      topicReplicationFactor: own.LOOPLINE_FEATURE_STORE_TOPIC_REPLICATION_FACTOR,
      consumerGroup: own.LOOPLINE_FEATURE_STORE_CONSUMER_GROUP,
      executeTasks: own.LOOPLINE_FEATURE_STORE_TASKS,
      taskConsumerGroup: own.LOOPLINE_FEATURE_STORE_TASK_CONSUMER_GROUP,
      onlineServer: { enabled: own.LOOPLINE_FEATURE_STORE_ONLINE_SERVER, httpPort: own.LOOPLINE_FEATURE_STORE_ONLINE_HTTP_PORT, grpcPort: own.LOOPLINE_FEATURE_STORE_ONLINE_GRPC_PORT, nice: own.LOOPLINE_FEATURE_STORE_ONLINE_NICE },
      taskPipelines: own.LOOPLINE_FEATURE_STORE_TASK_PIPELINES
        ? own.LOOPLINE_FEATURE_STORE_TASK_PIPELINES.split(',').map((name) => name.trim()).filter((name) => name !== '')
        : null,
      taskConcurrency: own.LOOPLINE_FEATURE_STORE_TASK_CONCURRENCY,
    },
  };
}

