import { resolve } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { createClickHouseClient } from '@loopline/infra';
import type { HostConfig } from '../host-config';
import type { OpenedDependency } from './dependency';

/**
 * ClickHouse through `@clickhouse/client`: a server when `LOOPLINE_CLICKHOUSE_URL` is set,
 * otherwise chDB in this process, on its own data folder (chDB allows one per process). The same
 * client API either way, so queries do not care which one runs them.
 */
export function openClickHouse(config: HostConfig): OpenedDependency<ClickHouseClient> {
  const client = createClickHouseClient({
    url: config.clickhouseUrl,
    path: resolve(config.dataDir, 'clickhouse', config.service),
    // Materializations, training sets and drift reports are long analytical queries: a server
    // must not cut them off. Readiness probes are bounded by the readiness monitor's own timeout.
    requestTimeoutMs: 30 * 60_000,
  });
  return {
    client,
    check: {
      name: 'clickhouse',
      probe: async () => {
        const result = await client.query({ query: 'SELECT 1 AS ok', format: 'JSONEachRow' });
        await result.json();
        return config.clickhouseUrl ? 'SELECT 1 answered' : 'SELECT 1 answered (embedded chDB)';
      },
    },
    close: { name: 'close ClickHouse client', run: () => client.close() },
  };
}
