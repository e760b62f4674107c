import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { loadArtifactStoreSettings, type ArtifactStoreSettings } from '@loopline/artifacts';
import { collectProblems, ConfigError, defaultPorts, loadConfig as parseEnvironment, loadServiceConfig, type ServiceConfig } from '@loopline/config';
import { z } from 'zod';

/** How much of a model's champion traffic its challenger gets, and whether it shadows the rest. */
export interface TrafficPolicyConfig {
  /** Share (0–100) of the requests addressed to the model (not to a version) that the challenger answers. */
  readonly canaryPercent: number;
  /** Mirror every request the champion answers to the challenger, log its outputs, never return them. */
  readonly shadow: boolean;
}

export type ExecutionProviderName = 'cpu' | 'cuda';

/** The serving service's configuration. */
export interface ServingConfig extends ServiceConfig {
  readonly serving: {
    /** Base URL of the registry's REST API. */
    readonly registryUrl: string;
    /** Base URL of ingestion's REST API (dataset versions as batch inputs). */
    readonly ingestionUrl: string;
    readonly batch: {
      /** Rows per chunk when a batch job gives none. */
      readonly defaultChunkRows: number;
      /** Largest input file fetched, in bytes. */
      readonly maxInputBytes: number;
      /** Absolute root of the local artifact store (predictions files), also holding downloads. */
      readonly artifactRoot: string;
      readonly artifactStore: ArtifactStoreSettings;
    };
    readonly featureStore: {
      /** Base URL of the feature store's REST API (training-set recipes). */
      readonly url: string;
      /** `host:port` of its gRPC API (online features). */
      readonly grpcAddress: string;
    };
    /** Models this instance serves: `'*'` for every registered model, or the listed names. */
    readonly models: '*' | readonly string[];
    /** Traffic policies at start, by model name; `PUT /v1/traffic/{model}` changes them at run time. */
    readonly traffic: Readonly<Record<string, TrafficPolicyConfig>>;
    /** Names this replica in `ModelLoadFailed` events. */
    readonly instanceId: string;
    /** Replication factor of the topics serving creates when missing (3 in production, 1 on one local broker). */
    readonly topicReplicationFactor: number;
    readonly batching: {
      /** Most rows one ONNX Runtime run takes when concurrent requests are batched together. */
      readonly maxBatchRows: number;
      /** How long a batch may wait for more requests before it runs; 0 runs as soon as the model is free. */
      readonly maxDelayMs: number;
    };
    readonly admission: {
      /** Requests admitted (queued or running) at once; beyond it: 503 + Retry-After / RESOURCE_EXHAUSTED at once. */
      readonly maxInFlight: number;
      /** Deadline of a request that brings none (gRPC deadline or the `timeout` parameter, in µs, win). */
      readonly defaultTimeoutMs: number;
    };
    readonly http: {
      /** Largest request body accepted; a larger one gets 413. */
      readonly maxBodyBytes: number;
    };
    readonly runtime: {
      /** ONNX Runtime execution provider; `cuda` falls back to the CPU, with a warning, where CUDA is absent. */
      readonly executionProvider: ExecutionProviderName;
      readonly cudaDeviceId: number;
      /** Threads one inference may use; 1 suits small tabular models best (no thread hand-offs). */
      readonly intraOpThreads: number;
    };
    readonly predictionLog: {
      readonly enabled: boolean;
      /** Most predictions per Kafka send. */
      readonly batchSize: number;
      /** Longest a prediction waits in memory before it is sent (or spooled). */
      readonly flushIntervalMs: number;
      /** How often a spool is retried while Kafka is unreachable. */
      readonly retryIntervalMs: number;
      /** A send slower than this moves its batch to the spool, so memory stays bounded. */
      readonly sendTimeoutMs: number;
      /** The spool never grows beyond this; predictions past it are counted and dropped. */
      readonly spoolMaxBytes: number;
    };
  };
}

const positiveInt = z.coerce.number().int().positive();
const nonNegative = z.coerce.number().min(0);
const booleanFlag = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');

const trafficPolicy = z
  .object({ canaryPercent: z.number().min(0).max(100).default(0), shadow: z.boolean().default(false) })
  .strict();

const trafficJson = z.string().transform((text, context) => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    context.addIssue({ code: z.ZodIssueCode.custom, message: 'expected JSON, e.g. {"flight-delay":{"canaryPercent":10,"shadow":false}}' });
    return z.NEVER;
  }
}).pipe(z.record(z.string().min(1), trafficPolicy));

const servingSchema = z.object({
  LOOPLINE_REGISTRY_URL: z.string().url().default('http://127.0.0.1:7005'),
  LOOPLINE_FEATURE_STORE_URL: z.string().url().default('http://127.0.0.1:7002'),
  LOOPLINE_INGESTION_URL: z.string().url().default('http://127.0.0.1:7001'),
  LOOPLINE_SERVING_BATCH_CHUNK_ROWS: positiveInt.max(1_000_000).default(16_384),
  LOOPLINE_SERVING_BATCH_MAX_INPUT_BYTES: positiveInt.default(64 * 1024 ** 3),
  LOOPLINE_FEATURE_STORE_GRPC_ADDRESS: z.string().regex(/^[^\s:/]+:\d{1,5}$/, 'expected host:port').optional(),
  LOOPLINE_FEATURE_STORE_GRPC_PORT: z.coerce.number().int().min(1).max(65535).default(defaultPorts['feature-store'].grpc),
  LOOPLINE_SERVING_MODELS: z.string().min(1).default('*'),
  LOOPLINE_SERVING_TRAFFIC: trafficJson.default('{}'),
  LOOPLINE_SERVING_INSTANCE_ID: z.string().min(1).optional(),
  LOOPLINE_SERVING_TOPIC_REPLICATION_FACTOR: positiveInt.default(1),
  LOOPLINE_SERVING_MAX_BATCH_ROWS: positiveInt.default(32),
  LOOPLINE_SERVING_MAX_BATCH_DELAY_MS: nonNegative.max(1_000).default(0),
  LOOPLINE_SERVING_MAX_IN_FLIGHT: positiveInt.default(512),
  LOOPLINE_SERVING_DEFAULT_TIMEOUT_MS: positiveInt.default(5_000),
  LOOPLINE_SERVING_MAX_BODY_BYTES: positiveInt.default(64 * 1024 * 1024),
  LOOPLINE_SERVING_EXECUTION_PROVIDER: z.enum(['cpu', 'cuda']).default('cpu'),
  LOOPLINE_SERVING_CUDA_DEVICE_ID: z.coerce.number().int().min(0).default(0),
  LOOPLINE_SERVING_INTRA_OP_THREADS: positiveInt.default(1),
  LOOPLINE_SERVING_LOG_PREDICTIONS: booleanFlag.default('true'),
  LOOPLINE_SERVING_LOG_BATCH_SIZE: positiveInt.default(500),
  LOOPLINE_SERVING_LOG_FLUSH_MS: positiveInt.default(20),
  LOOPLINE_SERVING_LOG_RETRY_MS: positiveInt.default(1_000),
  LOOPLINE_SERVING_LOG_SEND_TIMEOUT_MS: positiveInt.default(2_000),
  LOOPLINE_SERVING_LOG_SPOOL_MAX_BYTES: positiveInt.default(1024 * 1024 * 1024),
});

/** Read once at start; the only reader of `process.env` in this service. Every bad key is listed at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServingConfig {
  const problems: string[] = [];
  const shared = collectProblems(problems, () => loadServiceConfig('serving', env));
  const own = collectProblems(problems, () => parseEnvironment(servingSchema, env));
  const artifactRoot = resolve(env.LOOPLINE_DATA_DIR ?? '.loopline', 'artifacts', 'serving');
  const artifactStore = collectProblems(problems, () =>
    loadArtifactStoreSettings(env, { envPrefix: 'LOOPLINE_SERVING_', localRoot: artifactRoot, defaultS3Prefix: 'serving/' }),
  );
  if (!shared || !own || !artifactStore) throw new ConfigError(problems);
  const models = own.LOOPLINE_SERVING_MODELS.trim();
  return {
    ...shared,
    serving: {
      registryUrl: own.LOOPLINE_REGISTRY_URL.replace(/\/+$/, ''),
      ingestionUrl: own.LOOPLINE_INGESTION_URL.replace(/\/+$/, ''),
      batch: {
        defaultChunkRows: own.LOOPLINE_SERVING_BATCH_CHUNK_ROWS,
        maxInputBytes: own.LOOPLINE_SERVING_BATCH_MAX_INPUT_BYTES,
        artifactRoot: resolve(shared.dataDir, 'artifacts', 'serving'),
        artifactStore,
      },
      featureStore: {
        url: own.LOOPLINE_FEATURE_STORE_URL.replace(/\/+$/, ''),
        // Like `loopline up` finds services: the URL's host, and the feature store's gRPC port.
        grpcAddress: own.LOOPLINE_FEATURE_STORE_GRPC_ADDRESS ?? `${new URL(own.LOOPLINE_FEATURE_STORE_URL).hostname}:${own.LOOPLINE_FEATURE_STORE_GRPC_PORT}`,
      },
      models: models === '*' ? '*' : models.split(',').map((name) => name.trim()).filter((name) => name !== ''),
      traffic: own.LOOPLINE_SERVING_TRAFFIC,
      instanceId: own.LOOPLINE_SERVING_INSTANCE_ID ?? `${hostname()}-${process.pid}`,
      topicReplicationFactor: own.LOOPLINE_SERVING_TOPIC_REPLICATION_FACTOR,
      batching: { maxBatchRows: own.LOOPLINE_SERVING_MAX_BATCH_ROWS, maxDelayMs: own.LOOPLINE_SERVING_MAX_BATCH_DELAY_MS },
      admission: { maxInFlight: own.LOOPLINE_SERVING_MAX_IN_FLIGHT, defaultTimeoutMs: own.LOOPLINE_SERVING_DEFAULT_TIMEOUT_MS },
      http: { maxBodyBytes: own.LOOPLINE_SERVING_MAX_BODY_BYTES },
      runtime: {
        executionProvider: own.LOOPLINE_SERVING_EXECUTION_PROVIDER,
        cudaDeviceId: own.LOOPLINE_SERVING_CUDA_DEVICE_ID,
        intraOpThreads: own.LOOPLINE_SERVING_INTRA_OP_THREADS,
      },
      predictionLog: {
        enabled: own.LOOPLINE_SERVING_LOG_PREDICTIONS,
        batchSize: own.LOOPLINE_SERVING_LOG_BATCH_SIZE,
        flushIntervalMs: own.LOOPLINE_SERVING_LOG_FLUSH_MS,
        retryIntervalMs: own.LOOPLINE_SERVING_LOG_RETRY_MS,
        sendTimeoutMs: own.LOOPLINE_SERVING_LOG_SEND_TIMEOUT_MS,
        spoolMaxBytes: own.LOOPLINE_SERVING_LOG_SPOOL_MAX_BYTES,
      },
    },
  };
}
