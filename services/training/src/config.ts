import { resolve } from 'node:path';
import { z } from 'zod';
import { loadArtifactStoreSettings, type ArtifactStoreSettings } from '@loopline/artifacts';
import { collectProblems, ConfigError, loadConfig as parseEnv, loadServiceConfig, type ServiceConfig } from '@loopline/config';
import type { ExternalTrainerConfig } from './adapters/trainers/external-trainers';

const positiveInt = z.coerce.number().int().positive();

const externalTrainer = z
  .object({
    /** The program and its first arguments; the spec file's path is appended. */
    command: z.array(z.string().min(1)).min(1),
    /** Working directory (default: the service's). */
    cwd: z.string().optional(),
    /** The trainer environment's lockfile (e.g. requirements.txt), hashed into every run. */
    lockfile: z.string().optional(),
    /** The trainer's version (default: derived from the lockfile's hash). */
    version: z.string().optional(),
    timeoutMs: z.number().int().positive().default(3_600_000),
    /** Extra environment variables for the command (its environment is otherwise minimal). */
    env: z.record(z.string(), z.string()).default({}),
  })
  .strict();

const externalTrainers = z.string().transform((text, context) => {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    context.addIssue({ code: z.ZodIssueCode.custom, message: 'expected JSON, e.g. {"sklearn":{"command":["python3","train.py"],"lockfile":"requirements.txt"}}' });
    return z.NEVER;
  }
  const parsed = z.record(z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'trainer names are lowercase letters, digits, . _ -'), externalTrainer).safeParse(json);
  if (!parsed.success) {
    context.addIssue({ code: z.ZodIssueCode.custom, message: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ') });
    return z.NEVER;
  }
  return parsed.data;
});

/**
 * The training service's own settings, under `LOOPLINE_TRAINING_` (plus the URLs of the services it
 * calls). Artifacts live under `<dataDir>/artifacts/training` unless
 * `LOOPLINE_TRAINING_ARTIFACT_STORE=s3` (see `loadArtifactStoreSettings` of @loopline/artifacts).
 */
const trainingSchema = z.object({
  LOOPLINE_REGISTRY_URL: z.string().url().default('http://127.0.0.1:7005'),
  LOOPLINE_FEATURE_STORE_URL: z.string().url().default('http://127.0.0.1:7002'),
  LOOPLINE_TRAINING_WORKERS: positiveInt.max(64).default(2),
  LOOPLINE_TRAINING_MAX_CONCURRENT_JOBS: positiveInt.max(64).default(2),
  LOOPLINE_TRAINING_CODE_COMMIT: z.string().max(128).default(''),
  LOOPLINE_TRAINING_LOCKFILE: z.string().optional(),
  LOOPLINE_TRAINING_EXTERNAL_TRAINERS: externalTrainers.optional(),
  LOOPLINE_TRAINING_TOPIC_REPLICATION_FACTOR: positiveInt.max(16).default(1),
  LOOPLINE_TRAINING_TASKS: z.enum(['true', 'false']).default('true'),
  LOOPLINE_TRAINING_TASK_CONSUMER_GROUP: z.string().regex(/^[A-Za-z0-9._-]{1,200}$/).default('training-task-executor'),
  LOOPLINE_TRAINING_TASK_PIPELINES: z.string().optional(),
});

export interface TrainingSettings {
  readonly registryUrl: string;
  readonly featureStoreUrl: string;
  /** Built-in trainings (and trials) at once, each in a worker thread. */
  readonly workers: number;
  /** Training and tuning jobs at once; more wait in line. */
  readonly maxConcurrentJobs: number;
  /** Commit of the code that trains, recorded on every run (set by the deployment or CI). */
  readonly codeCommit: string;
  /** The lockfile whose SHA-256 identifies the built-in trainers' environment (package-lock.json). */
  readonly lockfile: string;
  readonly externalTrainers: Readonly<Record<string, ExternalTrainerConfig>>;
  readonly artifactRoot: string;
  readonly artifactStore: ArtifactStoreSettings;
  /** chDB's folder for reading Parquet. */
  readonly clickhousePath: string;
  readonly topicReplicationFactor: number;
  /** Whether this instance consumes task commands (on by default). */
  readonly consumeTasks: boolean;
  /** Its consumer group: replicas of one deployment share it (a work queue). */
  readonly taskConsumerGroup: string;
  /** Only tasks of these pipelines (by name); null for every pipeline. Dedicates workers to pipelines. */
  readonly taskPipelines: readonly string[] | null;
}

export type TrainingConfig = ServiceConfig & { readonly training: TrainingSettings };

/** Read once at start; the only reader of `process.env` in this service. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): TrainingConfig {
  const problems: string[] = [];
  const service = collectProblems(problems, () => loadServiceConfig('training', env));
  const own = collectProblems(problems, () => parseEnv(trainingSchema, env));
  const dataDir = env.LOOPLINE_DATA_DIR || '.loopline';
  const artifactRoot = resolve(dataDir, 'artifacts', 'training');
  const artifactStore = collectProblems(problems, () => loadArtifactStoreSettings(env, { envPrefix: 'LOOPLINE_TRAINING_', localRoot: artifactRoot, defaultS3Prefix: 'training/' }));
  if (service === undefined || own === undefined || artifactStore === undefined) throw new ConfigError(problems);
  const externals: Record<string, ExternalTrainerConfig> = {};
  for (const [name, trainer] of Object.entries(own.LOOPLINE_TRAINING_EXTERNAL_TRAINERS ?? {})) {
    const cwd = resolve(trainer.cwd ?? '.');
    externals[name] = {
      command: trainer.command,
      cwd,
      lockfile: trainer.lockfile ? resolve(cwd, trainer.lockfile) : null,
      version: trainer.version ?? null,
      timeoutMs: trainer.timeoutMs,
      env: trainer.env,
    };
  }
  return {
    ...service,
    training: {
      registryUrl: own.LOOPLINE_REGISTRY_URL.replace(/\/+$/, ''),
      featureStoreUrl: own.LOOPLINE_FEATURE_STORE_URL.replace(/\/+$/, ''),
      workers: own.LOOPLINE_TRAINING_WORKERS,
      maxConcurrentJobs: own.LOOPLINE_TRAINING_MAX_CONCURRENT_JOBS,
      codeCommit: own.LOOPLINE_TRAINING_CODE_COMMIT,
      lockfile: resolve(own.LOOPLINE_TRAINING_LOCKFILE ?? resolve(__dirname, '..', '..', '..', 'package-lock.json')),
      externalTrainers: externals,
      artifactRoot,
      artifactStore,
      clickhousePath: resolve(dataDir, 'clickhouse', 'training'),
      topicReplicationFactor: own.LOOPLINE_TRAINING_TOPIC_REPLICATION_FACTOR,
      consumeTasks: own.LOOPLINE_TRAINING_TASKS === 'true',
      taskConsumerGroup: own.LOOPLINE_TRAINING_TASK_CONSUMER_GROUP,
      taskPipelines: own.LOOPLINE_TRAINING_TASK_PIPELINES ? own.LOOPLINE_TRAINING_TASK_PIPELINES.split(',').map((name) => name.trim()).filter((name) => name !== '') : null,
    },
  };
}

