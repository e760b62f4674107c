import { z } from 'zod';
import { loadConfig } from './load-config';

const port = z.coerce.number().int().min(1).max(65535);

/** Settings of the local platform as a whole (`loopline up`), as opposed to one service's. */
export const platformConfigSchema = z
  .object({
    LOOPLINE_DATA_DIR: z.string().min(1).default('.loopline'),
    LOOPLINE_HOST: z.string().min(1).default('127.0.0.1'),
    LOOPLINE_KAFKA_PORT: port.default(9092),
    LOOPLINE_KAFKA_CONTROLLER_PORT: port.default(9093),
    LOOPLINE_KAFKA_HEAP_MB: z.coerce.number().int().min(128).default(512),
    LOOPLINE_POSTGRES_PORT: port.default(5432),
    LOOPLINE_CLICKHOUSE_URL: z.string().url().optional(),
    LOOPLINE_CACHE_DIR: z.string().min(1).optional(),
    LOOPLINE_START_TIMEOUT_S: z.coerce.number().int().min(1).default(120),
  })
  .passthrough()
  .transform((env) => ({
    dataDir: env.LOOPLINE_DATA_DIR,
    host: env.LOOPLINE_HOST,
    kafkaPort: env.LOOPLINE_KAFKA_PORT,
    kafkaControllerPort: env.LOOPLINE_KAFKA_CONTROLLER_PORT,
    kafkaHeapMb: env.LOOPLINE_KAFKA_HEAP_MB,
    postgresPort: env.LOOPLINE_POSTGRES_PORT,
    clickhouseUrl: env.LOOPLINE_CLICKHOUSE_URL,
    cacheDir: env.LOOPLINE_CACHE_DIR,
    startTimeoutMs: env.LOOPLINE_START_TIMEOUT_S * 1000,
  }));

export type PlatformConfig = z.infer<typeof platformConfigSchema>;

export function loadPlatformConfig(env: Record<string, string | undefined>): PlatformConfig {
  return loadConfig(platformConfigSchema, env);
}
