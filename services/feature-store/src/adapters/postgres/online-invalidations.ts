// Cache coherence across replicas: every statement that writes online rows sends a NOTIFY on
// `onlineChannel` with its view version when it commits (online-store.ts); each online cache (the
// service's main thread and its online server's worker, in every replica) listens on a
// connection of its own and drops that view version's cached rows. A notification can be missed
// only while the connection is down, so until it listens again the cache is off (`setCoherent`)
// and every lookup reads the store.
import { Client } from 'pg';

export const onlineChannel = 'loopline_feature_store_online';

/** What the listener keeps coherent: an `OnlineReader` or `OnlineFeatures`. */
export interface InvalidationTarget {
  invalidate(view: string, version: number): void;
  setCoherent(coherent: boolean): void;
}

export interface OnlineInvalidationsOptions {
  readonly connectionString: string;
  /** Names the connection in `pg_stat_activity`. */
  readonly applicationName: string;
  readonly log: (level: 'info' | 'warn', msg: string, error?: unknown) => void;
}

const firstRetryMs = 500;
const maxRetryMs = 30_000;

export class OnlineInvalidations {
  private client: Client | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;

  constructor(
    private readonly target: InvalidationTarget,
    private readonly options: OnlineInvalidationsOptions,
  ) {}

  /** Listens in the background; the cache stays off until it does. */
  start(): void {
    this.stopped = false;
    this.target.setCoherent(false);
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new Client({ connectionString: this.options.connectionString, application_name: this.options.applicationName, keepAlive: true, connectionTimeoutMillis: 5_000 });
    let lost = false;
    const onLost = (error?: unknown) => {
      if (lost) return;
      lost = true;
      if (this.client === client) this.client = undefined;
      void client.end().catch(() => undefined);
      if (this.stopped) return;
      this.target.setCoherent(false);
      this.failures += 1;
      const delay = Math.min(maxRetryMs, firstRetryMs * 2 ** Math.min(10, this.failures - 1));
      if (this.failures === 1) this.options.log('warn', `online cache off: its notification connection failed; every lookup reads the store until it listens again (retry in ${delay} ms)`, error);
      this.retryTimer = setTimeout(() => void this.connect(), delay);
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    client.on('notification', (message) => {
      if (message.channel !== onlineChannel) return;
      const written = parseViewVersion(message.payload);
      if (written) this.target.invalidate(written.view, written.version);
      // A payload this code cannot read: safer to forget everything than to keep a stale row.
      else this.target.setCoherent(true);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${onlineChannel}`);
    } catch (error) {
      onLost(error);
      return;
    }
    if (this.stopped || lost) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    if (this.failures > 0) this.options.log('info', 'online cache on again: listening to the store\'s notifications');
    this.failures = 0;
    this.target.setCoherent(true);
  }
}

function parseViewVersion(payload: string | undefined): { view: string; version: number } | undefined {
  try {
    const parsed = JSON.parse(payload ?? '') as unknown;
    if (Array.isArray(parsed) && typeof parsed[0] === 'string' && Number.isInteger(parsed[1])) return { view: parsed[0], version: parsed[1] as number };
  } catch {
    // not ours
  }
  return undefined;
}
