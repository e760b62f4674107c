import { envPrefix, serviceNames } from '@loopline/config';
import { freePort } from './free-port';

/**
 * The environment of a whole platform (`loopline up` or `loopline demo`) started by a test or a
 * benchmark beside anything else on the machine: its own data folder, a free port for Kafka,
 * PostgreSQL, every service and the feature store's online server, and none of the caller's own
 * `LOOPLINE_*` settings. `settings` are added last.
 */
export async function platformEnv(dataDir: string, settings: Record<string, string> = {}): Promise<NodeJS.ProcessEnv> {
  const env: NodeJS.ProcessEnv = {
    ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('LOOPLINE_'))),
    LOOPLINE_DATA_DIR: dataDir,
    LOOPLINE_KAFKA_PORT: String(await freePort()),
    LOOPLINE_KAFKA_CONTROLLER_PORT: String(await freePort()),
    LOOPLINE_POSTGRES_PORT: String(await freePort()),
    LOOPLINE_FEATURE_STORE_ONLINE_HTTP_PORT: String(await freePort()),
    LOOPLINE_FEATURE_STORE_ONLINE_GRPC_PORT: String(await freePort()),
  };
  for (const service of serviceNames) {
    env[`${envPrefix(service)}HTTP_PORT`] = String(await freePort());
    env[`${envPrefix(service)}GRPC_PORT`] = String(await freePort());
  }
  return { ...env, ...settings };
}
