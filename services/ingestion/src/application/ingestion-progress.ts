// Progress of the ingestions this process runs, in memory: what phase each is in, bytes received,
// rows parsed, and how it ended. Served by `GET /v1/ingestions/{id}` (and per source), logged by
// the listener the module wires. Kept for the last `retain` ingestions; a restarted process
// forgets them (the outcome itself is durable in the event store).
import type { Clock, IngestionPhase } from './ports';

export interface IngestionProgressView {
  readonly ingestionId: string;
  readonly source: string;
  readonly phase: IngestionPhase;
  readonly bytesReceived: number;
  /** Rows read so far; known once parsing ends. */
  readonly rowCount: number | null;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly finishedAt: string | null;
  readonly elapsedMs: number;
  /** How it ended: the status and version, or the error. */
  readonly outcome: { readonly status: string; readonly versionId: string } | { readonly error: string } | null;
}

export type ProgressListener = (view: IngestionProgressView, change: 'phase' | 'bytes') => void;

export class IngestionTracker {
  private bytesLogged = 0;

  constructor(
    private readonly owner: IngestionProgress,
    private view: IngestionProgressView,
  ) {}

  get id(): string {
    return this.view.ingestionId;
  }

  phase(phase: IngestionPhase, detail: { readonly rowCount?: number } = {}): void {
    this.update({ phase, ...(detail.rowCount !== undefined ? { rowCount: detail.rowCount } : {}) }, 'phase');
  }

  received(bytes: number): void {
    const phase = this.view.phase === 'queued' ? 'receiving' : this.view.phase;
    // Listeners hear about bytes every 16 MiB, the view is always current.
    const notify = bytes - this.bytesLogged >= 16 * 1024 * 1024;
    if (notify) this.bytesLogged = bytes;
    this.update({ phase, bytesReceived: bytes }, notify ? 'bytes' : undefined);
  }

  succeeded(outcome: { readonly status: string; readonly versionId: string; readonly rowCount: number }): void {
    this.update({ phase: 'done', rowCount: outcome.rowCount, outcome: { status: outcome.status, versionId: outcome.versionId }, finished: true }, 'phase');
  }

  failed(error: unknown): void {
    this.update({ phase: 'failed', outcome: { error: error instanceof Error ? error.message : String(error) }, finished: true }, 'phase');
  }

  snapshot(): IngestionProgressView {
    return this.view;
  }

  private update(
    change: Partial<Pick<IngestionProgressView, 'phase' | 'bytesReceived' | 'rowCount' | 'outcome'>> & { readonly finished?: boolean },
    notify: 'phase' | 'bytes' | undefined,
  ): void {
    const now = this.owner.clock.now();
    const { finished, ...fields } = change;
    this.view = {
      ...this.view,
      ...fields,
      updatedAt: now.toISOString(),
      finishedAt: finished ? now.toISOString() : this.view.finishedAt,
      elapsedMs: now.getTime() - Date.parse(this.view.startedAt),
    };
    this.owner.store(this.view);
    if (notify) this.owner.notify(this.view, notify);
  }
}

export class IngestionProgress {
  private readonly views = new Map<string, IngestionProgressView>();
  private readonly listeners: ProgressListener[] = [];

  constructor(
    readonly clock: Clock,
    private readonly retain = 500,
  ) {}

  start(ingestionId: string, source: string): IngestionTracker {
    const now = this.clock.now().toISOString();
    const view: IngestionProgressView = {
      ingestionId,
      source,
      phase: 'queued',
      bytesReceived: 0,
      rowCount: null,
      startedAt: now,
      updatedAt: now,
      finishedAt: null,
      elapsedMs: 0,
      outcome: null,
    };
    this.store(view);
    this.notify(view, 'phase');
    return new IngestionTracker(this, view);
  }

  onChange(listener: ProgressListener): void {
    this.listeners.push(listener);
  }

  get(ingestionId: string): IngestionProgressView | undefined {
    return this.views.get(ingestionId);
  }

  /** The source's ingestions this process remembers, newest first. */
  ofSource(source: string): IngestionProgressView[] {
    return [...this.views.values()].filter((view) => view.source === source).reverse();
  }

  /** @internal */
  store(view: IngestionProgressView): void {
    this.views.set(view.ingestionId, view);
    while (this.views.size > this.retain) this.views.delete(this.views.keys().next().value!);
  }

  /** @internal */
  notify(view: IngestionProgressView, change: 'phase' | 'bytes'): void {
    for (const listener of this.listeners) listener(view, change);
  }
}
