import { mkdirSync } from 'node:fs';
import { createClient, type ClickHouseClient } from '@clickhouse/client';

export interface ClickHouseOptions {
  /** A ClickHouse server's HTTP URL. When absent, ClickHouse runs in-process through chDB. */
  readonly url?: string;
  /** chDB's data folder; one per process, since chDB holds it open. */
  readonly path: string;
  readonly database?: string;
  readonly requestTimeoutMs?: number;
}

type ClickHouseConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

/**
 * The one way Loopline code gets a ClickHouse client: the same `@clickhouse/client` API whether
 * the engine is a server (deployed) or chDB inside this process (local, tests).
 */
export function createClickHouseClient(options: ClickHouseOptions): ClickHouseClient {
  if (options.url) return createClient({ url: options.url, database: options.database, request_timeout: options.requestTimeoutMs });
  mkdirSync(options.path, { recursive: true });
  // Required here, not imported: chDB brings a large native library that processes without
  // ClickHouse never load, and `chdb/connection` is an `exports` subpath that our `node` module
  // resolution cannot type (and its types name a second copy of client-common): hence the local
  // signature.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createChdbConnection } = require('chdb/connection') as { createChdbConnection(options: { path: string }): ClickHouseConnection };
  return createClient({ connection: createChdbConnection({ path: options.path }), database: options.database });
}
