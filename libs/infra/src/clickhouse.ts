import { mkdirSync } from 'node:fs';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';

export interface ClickHouseOptions {
  /** A ClickHouse server's HTTP URL. When absent, ClickHouse runs in-process through chDB. */
  readonly url?: string;
  /** chDB's data folder; one per process, since chDB holds it open. */
  readonly path: string;
  readonly database?: string;
}

/**
 * The one way Loopline code gets a ClickHouse client: the same `@clickhouse/client` API whether
 * the engine is a server (deployed) or chDB inside this process (local, tests).
 */
export function createClickHouseClient(options: ClickHouseOptions): ClickHouseClient {
  if (options.url) return createClient({ url: options.url, database: options.database });
  mkdirSync(options.path, { recursive: true });
  return createClient({ connection: createChdbConnection({ path: options.path }), database: options.database });
}
