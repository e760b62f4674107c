import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import type { HostConfig } from '../host-config';
import type { OpenedDependency } from './dependency';

/**
 * ClickHouse through `@clickhouse/client`: a server when `LOOPLINE_CLICKHOUSE_URL` is set,
 * otherwise chDB in this process, on its own data folder (chDB allows one per process). The same
 * client API either way, so queries do not care which one runs them.
 */
export function openClickHouse(config: HostConfig): OpenedDependency<ClickHouseClient> {
  const client = config.clickhouseUrl ? createClient({ url: config.clickhouseUrl, request_timeout: 5_000 }) : embeddedClient(config);
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

type ClickHouseConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

function embeddedClient(config: HostConfig): ClickHouseClient {
  // Required here, not imported: chDB brings a large native library that services without
  // ClickHouse never load, and `chdb/connection` is an `exports` subpath that our `node`
  // module resolution cannot type (hence the local signature).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createChdbConnection } = require('chdb/connection') as { createChdbConnection(options: { path: string }): ClickHouseConnection };
  const path = resolve(config.dataDir, 'clickhouse', config.service);
  mkdirSync(path, { recursive: true });
  return createClient({ connection: createChdbConnection({ path }) });
}
