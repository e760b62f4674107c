import { Pool } from 'pg';
import type { HostConfig } from '../host-config';
import type { Logger } from '@loopline/telemetry';
import { notConfiguredCheck } from '../readiness/readiness';
import type { OpenedDependency } from './dependency';

/**
 * The service's pool on its own database. Connecting is lazy, so a database that is down at start
 * makes the service not ready instead of failing the boot.
 */
export function openPostgres(config: HostConfig, logger: Logger): OpenedDependency<Pool> {
  if (!config.postgresUrl) return { client: undefined, check: notConfiguredCheck('postgres', 'LOOPLINE_POSTGRES_URL') };
  const pool = new Pool({
    connectionString: config.postgresUrl,
    application_name: `loopline-${config.service}`,
    max: 10,
    connectionTimeoutMillis: 2_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its connection emits on the pool; unhandled, it would kill the process.
  pool.on('error', (error) => logger.warn({ err: error }, 'idle Postgres connection failed'));
  return {
    client: pool,
    check: {
      name: 'postgres',
      probe: async () => {
        await pool.query('SELECT 1');
        return 'SELECT 1 answered';
      },
    },
    close: { name: 'close Postgres pool', run: () => pool.end() },
  };
}
