import { z } from 'zod';
import { collectProblems, ConfigError, loadConfig as parseEnv, loadServiceConfig, type ServiceConfig } from '@loopline/config';

const positiveInt = z.coerce.number().int().positive();
const flag = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');

/**
 * Orchestration's own settings (README of the service): the worker, deadlines, the supervisor's
 * period, where the registry and serving answer (for the evaluate/register/promote/deploy steps),
 * and the code version that enters every cache key.
 */
const orchestrationSchema = z.object({
  LOOPLINE_ORCHESTRATION_WORKER: flag.default('true'),
  LOOPLINE_ORCHESTRATION_WORKER_CONCURRENCY: positiveInt.max(256).default(4),
  LOOPLINE_ORCHESTRATION_WORKER_LEASE_MS: positiveInt.min(500).default(5_000),
  LOOPLINE_ORCHESTRATION_RESULT_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  LOOPLINE_ORCHESTRATION_DEFAULT_TASK_TIMEOUT_MS: positiveInt.default(3_600_000),
  LOOPLINE_ORCHESTRATION_TICK_MS: positiveInt.min(10).default(250),
  LOOPLINE_ORCHESTRATION_TRIGGER_REFRESH_MS: positiveInt.min(100).default(5_000),
  LOOPLINE_ORCHESTRATION_CONSUMER_GROUP_PREFIX: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/).default('loopline-orchestration'),
  LOOPLINE_ORCHESTRATION_TOPIC_REPLICATION_FACTOR: positiveInt.max(16).default(1),
  LOOPLINE_REGISTRY_URL: z.string().url().default('http://127.0.0.1:7005'),
  LOOPLINE_SERVING_URL: z.string().url().default('http://127.0.0.1:8080'),
  LOOPLINE_MONITORING_URL: z.string().url().default('http://127.0.0.1:7007'),
  LOOPLINE_CODE_COMMIT: z.string().max(200).default(''),
});

export interface OrchestrationSettings {
  /** Whether this process runs the task worker too (the standalone worker is `worker-main.ts`). */
  readonly worker: boolean;
  readonly workerConcurrency: number;
  /** How long a worker's claim on a task lives without renewal (renewed every third). */
  readonly workerLeaseMs: number;
  /** Added to a task's timeout to make the deadline of its result. */
  readonly resultGraceMs: number;
  readonly defaultTaskTimeoutMs: number;
  /** Period of the supervisor: overdue results, due retries, queued runs, schedules. */
  readonly tickMs: number;
  /** How often the set of event triggers is re-read (other replicas may have applied pipelines). */
  readonly triggerRefreshMs: number;
  readonly consumerGroupPrefix: string;
  readonly topicReplicationFactor: number;
  readonly registryUrl: string;
  readonly servingUrl: string;
  /** Where the deploy step reads live, labelled traffic per version to judge a canary. */
  readonly monitoringUrl: string;
  readonly codeCommit: string;
}

export type OrchestrationConfig = ServiceConfig & { readonly orchestration: OrchestrationSettings };

/** Read once at start; the only reader of `process.env` in this service. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): OrchestrationConfig {
  const problems: string[] = [];
  const service = collectProblems(problems, () => loadServiceConfig('orchestration', env));
  const own = collectProblems(problems, () => parseEnv(orchestrationSchema, env));
  if (service === undefined || own === undefined) throw new ConfigError(problems);
  return {
    ...service,
    orchestration: {
      worker: own.LOOPLINE_ORCHESTRATION_WORKER,
      workerConcurrency: own.LOOPLINE_ORCHESTRATION_WORKER_CONCURRENCY,
      workerLeaseMs: own.LOOPLINE_ORCHESTRATION_WORKER_LEASE_MS,
      resultGraceMs: own.LOOPLINE_ORCHESTRATION_RESULT_GRACE_MS,
      defaultTaskTimeoutMs: own.LOOPLINE_ORCHESTRATION_DEFAULT_TASK_TIMEOUT_MS,
      tickMs: own.LOOPLINE_ORCHESTRATION_TICK_MS,
      triggerRefreshMs: own.LOOPLINE_ORCHESTRATION_TRIGGER_REFRESH_MS,
      consumerGroupPrefix: own.LOOPLINE_ORCHESTRATION_CONSUMER_GROUP_PREFIX,
      topicReplicationFactor: own.LOOPLINE_ORCHESTRATION_TOPIC_REPLICATION_FACTOR,
      registryUrl: own.LOOPLINE_REGISTRY_URL.replace(/\/+$/, ''),
      servingUrl: own.LOOPLINE_SERVING_URL.replace(/\/+$/, ''),
      monitoringUrl: own.LOOPLINE_MONITORING_URL.replace(/\/+$/, ''),
      codeCommit: own.LOOPLINE_CODE_COMMIT,
    },
  };
}
