import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { loadArtifactStoreSettings, type ArtifactStoreSettings, type S3Settings } from '@loopline/artifacts';
import { collectProblems, ConfigError, loadConfig as parseEnv, loadServiceConfig, type ServiceConfig } from '@loopline/config';

const mebibyte = 1024 * 1024;
const positiveInt = z.coerce.number().int().positive();
const flag = z.enum(['true', 'false']).transform((value) => value === 'true');

/**
 * The ingestion service's own settings, under `LOOPLINE_INGESTION_`:
 * - `MAX_UPLOAD_MB` (default 10240): largest file accepted by upload or S3 import;
 * - `MAX_MEMORY_MB` (default 512): memory one engine query may use (sorts and aggregations spill
 *   to disk above half of it); `THREADS` (default 2): threads per query; `CONCURRENCY`
 *   (default 1): ingestions processed at once, the others queue;
 * - `IMPORT_ROOTS`: comma-separated absolute folders files may be imported from by path (none:
 *   imports by path are refused);
 * - `IMPORT_S3_BUCKETS`: comma-separated buckets S3 imports may read (none: refused), with
 *   `IMPORT_S3_ENDPOINT`, `_REGION`, `_ACCESS_KEY_ID`, `_SECRET_ACCESS_KEY`, `_FORCE_PATH_STYLE`;
 * - `TOPIC_REPLICATION_FACTOR` (default 1);
 * - `TASKS` (default true): execute the pipeline steps `ingest` and `validate` (RunTask commands),
 *   in the consumer group `TASK_CONSUMER_GROUP` (default `ingestion-task-executor`), only for the
 *   pipelines listed in `TASK_PIPELINES` (comma-separated; all when unset);
 * - `STREAMS` (default true): feed the sources that have a stream configured from their topics;
 * - the artifact store: `ARTIFACT_STORE=local|s3` and `S3_*` (see @loopline/artifacts), locally
 *   under `<dataDir>/artifacts/ingestion`.
 * The engine (chDB) keeps its data under `<dataDir>/clickhouse/ingestion-engine`.
 */
const ingestionSchema = z.object({
  LOOPLINE_INGESTION_MAX_UPLOAD_MB: positiveInt.default(10_240),
  LOOPLINE_INGESTION_MAX_MEMORY_MB: positiveInt.min(64).default(512),
  LOOPLINE_INGESTION_THREADS: positiveInt.max(64).default(2),
  LOOPLINE_INGESTION_CONCURRENCY: positiveInt.max(16).default(1),
  LOOPLINE_INGESTION_IMPORT_ROOTS: z.string().optional(),
  LOOPLINE_INGESTION_IMPORT_S3_BUCKETS: z.string().optional(),
  LOOPLINE_INGESTION_IMPORT_S3_ENDPOINT: z.string().url().optional(),
  LOOPLINE_INGESTION_IMPORT_S3_REGION: z.string().min(1).default('us-east-1'),
  LOOPLINE_INGESTION_IMPORT_S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  LOOPLINE_INGESTION_IMPORT_S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  LOOPLINE_INGESTION_IMPORT_S3_FORCE_PATH_STYLE: flag.optional(),
  LOOPLINE_INGESTION_TOPIC_REPLICATION_FACTOR: positiveInt.max(16).default(1),
  LOOPLINE_INGESTION_TASKS: flag.default('true'),
  LOOPLINE_INGESTION_TASK_CONSUMER_GROUP: z.string().regex(/^[A-Za-z0-9._-]{1,200}$/).default('ingestion-task-executor'),
  LOOPLINE_INGESTION_TASK_PIPELINES: z.string().optional(),
  LOOPLINE_INGESTION_STREAMS: flag.default('true'),
});

export interface IngestionServiceSettings {
  /** Absolute root of the local artifact store; also holds uploads and work files (`.incoming/`). */
  readonly artifactRoot: string;
  readonly artifactStore: ArtifactStoreSettings;
  /** chDB's data folder for the engine. */
  readonly enginePath: string;
  readonly maxUploadBytes: number;
  readonly maxMemoryBytes: number;
  readonly threads: number;
  readonly concurrency: number;
  readonly importRoots: readonly string[];
  /** S3 imports: the allowed buckets and how to reach them; null when none are allowed. */
  readonly importS3: (Omit<S3Settings, 'bucket' | 'prefix'> & { readonly buckets: readonly string[] }) | null;
  readonly topicReplicationFactor: number;
  /** Whether this process executes `ingest` / `validate` pipeline tasks. */
  readonly consumeTasks: boolean;
  readonly taskConsumerGroup: string;
  /** Only tasks of these pipelines; null for all. */
  readonly taskPipelines: readonly string[] | null;
  /** Whether this process feeds sources from their Kafka topics. */
  readonly consumeStreams: boolean;
}

export type IngestionConfig = ServiceConfig & { readonly ingestion: IngestionServiceSettings };

/** Read once at start; the only reader of `process.env` in this service. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): IngestionConfig {
  const problems: string[] = [];
  const service = collectProblems(problems, () => loadServiceConfig('ingestion', env));
  const own = collectProblems(problems, () => parseEnv(ingestionSchema, env));
  const dataDir = resolve(env.LOOPLINE_DATA_DIR || '.loopline');
  const artifactRoot = resolve(dataDir, 'artifacts', 'ingestion');
  const artifactStore = collectProblems(problems, () =>
    loadArtifactStoreSettings(env, { envPrefix: 'LOOPLINE_INGESTION_', localRoot: artifactRoot, defaultS3Prefix: 'ingestion/' }),
  );
  // Read from the environment, not from `own`: their problems are listed even when another key is bad.
  const importRoots = (env.LOOPLINE_INGESTION_IMPORT_ROOTS ?? '')
    .split(',')
    .map((root) => root.trim())
    .filter((root) => root !== '');
  for (const root of importRoots) {
    if (!isAbsolute(root)) problems.push(`LOOPLINE_INGESTION_IMPORT_ROOTS: "${root}" is not an absolute path`);
  }
  const buckets = (env.LOOPLINE_INGESTION_IMPORT_S3_BUCKETS ?? '')
    .split(',')
    .map((bucket) => bucket.trim())
    .filter((bucket) => bucket !== '');
  if (Boolean(env.LOOPLINE_INGESTION_IMPORT_S3_ACCESS_KEY_ID) !== Boolean(env.LOOPLINE_INGESTION_IMPORT_S3_SECRET_ACCESS_KEY)) {
    problems.push('LOOPLINE_INGESTION_IMPORT_S3_SECRET_ACCESS_KEY: set both the access key id and the secret access key, or neither');
  }
  if (service === undefined || own === undefined || artifactStore === undefined || problems.length > 0) throw new ConfigError(problems);
  return {
    ...service,
    ingestion: {
      artifactRoot,
      artifactStore,
      enginePath: resolve(dataDir, 'clickhouse', 'ingestion-engine'),
      maxUploadBytes: own.LOOPLINE_INGESTION_MAX_UPLOAD_MB * mebibyte,
      maxMemoryBytes: own.LOOPLINE_INGESTION_MAX_MEMORY_MB * mebibyte,
      threads: own.LOOPLINE_INGESTION_THREADS,
      concurrency: own.LOOPLINE_INGESTION_CONCURRENCY,
      importRoots: importRoots.map((root) => resolve(root)),
      importS3:
        buckets.length === 0
          ? null
          : {
              buckets,
              endpoint: own.LOOPLINE_INGESTION_IMPORT_S3_ENDPOINT,
              region: own.LOOPLINE_INGESTION_IMPORT_S3_REGION,
              forcePathStyle: own.LOOPLINE_INGESTION_IMPORT_S3_FORCE_PATH_STYLE ?? own.LOOPLINE_INGESTION_IMPORT_S3_ENDPOINT !== undefined,
              credentials:
                own.LOOPLINE_INGESTION_IMPORT_S3_ACCESS_KEY_ID && own.LOOPLINE_INGESTION_IMPORT_S3_SECRET_ACCESS_KEY
                  ? { accessKeyId: own.LOOPLINE_INGESTION_IMPORT_S3_ACCESS_KEY_ID, secretAccessKey: own.LOOPLINE_INGESTION_IMPORT_S3_SECRET_ACCESS_KEY }
                  : undefined,
            },
      topicReplicationFactor: own.LOOPLINE_INGESTION_TOPIC_REPLICATION_FACTOR,
      consumeTasks: own.LOOPLINE_INGESTION_TASKS,
      taskConsumerGroup: own.LOOPLINE_INGESTION_TASK_CONSUMER_GROUP,
      taskPipelines: own.LOOPLINE_INGESTION_TASK_PIPELINES
        ? own.LOOPLINE_INGESTION_TASK_PIPELINES.split(',').map((name) => name.trim()).filter((name) => name !== '')
        : null,
      consumeStreams: own.LOOPLINE_INGESTION_STREAMS,
    },
  };
}

