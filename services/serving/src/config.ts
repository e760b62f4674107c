import { hostname } from 'node:os';
import { ConfigError, loadConfig as parseEnvironment, loadServiceConfig, type ServiceConfig } from '@loopline/config';
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
  let shared: ServiceConfig | undefined;
  let own: z.infer<typeof servingSchema> | undefined;
  try {
    shared = loadServiceConfig('serving', env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  try {
    own = parseEnvironment(servingSchema, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  if (!shared || !own) throw new ConfigError(problems);
  const models = own.LOOPLINE_SERVING_MODELS.trim();
  return {
    ...shared,
    serving: {
      registryUrl: own.LOOPLINE_REGISTRY_URL.replace(/\/+$/, ''),
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
