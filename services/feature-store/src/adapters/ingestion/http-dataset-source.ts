// The ingestion service over its REST API: the only way the feature store reads dataset versions
// (a service never reads another's tables or artifact store).
import { Readable } from 'node:stream';
import { NotFoundError, UnavailableError, ValidationError } from '@loopline/errors';
import type { DatasetSource, DatasetVersionInfo, DatasetVersionSummary } from '../../application/ports';

export class HttpDatasetSource implements DatasetSource {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 10_000,
  ) {}

  private url(source: string, versionId: string, suffix = ''): string {
    return `${this.baseUrl.replace(/\/$/, '')}/v1/sources/${encodeURIComponent(source)}/versions/${encodeURIComponent(versionId)}${suffix}`;
  }

  private async request(url: string, timeoutMs: number | undefined): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(url, { signal: timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      throw new UnavailableError(`the ingestion service cannot be reached at ${this.baseUrl}: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (response.status === 404) throw new NotFoundError(`ingestion knows no such data source or dataset version (${url.slice(this.baseUrl.length)})`, { reason: 'dataset_not_found' });
    if (response.status >= 500) throw new UnavailableError(`the ingestion service answered ${response.status}`);
    if (!response.ok) throw new ValidationError(`the ingestion service refused the request: ${response.status} ${await response.text().catch(() => '')}`.slice(0, 500));
    return response;
  }

  async describe(source: string, versionId: string): Promise<DatasetVersionInfo> {
    const response = await this.request(this.url(source, versionId), this.timeoutMs);
    const body = (await response.json()) as Partial<DatasetVersionInfo> & { versionId?: string; sha256?: string };
    if (typeof body.sha256 !== 'string' || typeof body.versionId !== 'string') throw new UnavailableError('the ingestion service described the version without sha256 or versionId');
    return {
      source,
      versionId: body.versionId,
      sha256: body.sha256,
      rowCount: Number(body.rowCount ?? 0),
      columns: body.columns ?? [],
      eventTimeColumn: body.eventTimeColumn ?? null,
      entityColumns: body.entityColumns ?? [],
      createdAt: String(body.createdAt ?? ''),
    };
  }

  async list(source: string): Promise<DatasetVersionSummary[]> {
    const response = await this.request(`${this.baseUrl.replace(/\/$/, '')}/v1/sources/${encodeURIComponent(source)}/versions?status=CREATED`, this.timeoutMs);
    const body = (await response.json()) as { versions?: { versionId?: unknown; sha256?: unknown; createdAt?: unknown; eventTimeRange?: { start?: unknown; end?: unknown } | null }[] };
    if (!Array.isArray(body.versions)) throw new UnavailableError('the ingestion service listed versions without a versions array');
    const versions: DatasetVersionSummary[] = [];
    for (const version of body.versions) {
      if (typeof version.versionId !== 'string' || typeof version.sha256 !== 'string') continue;
      const start = typeof version.eventTimeRange?.start === 'string' ? Date.parse(version.eventTimeRange.start) : Number.NaN;
      const end = typeof version.eventTimeRange?.end === 'string' ? Date.parse(version.eventTimeRange.end) : Number.NaN;
      versions.push({
        versionId: version.versionId,
        sha256: version.sha256,
        createdAt: typeof version.createdAt === 'string' ? version.createdAt : '',
        eventTimeRange: Number.isFinite(start) && Number.isFinite(end) ? { startMs: start, endMs: end } : null,
      });
    }
    // Ingestion lists newest first; readers want the order the data arrived in.
    return versions.sort((a, b) => (a.createdAt === b.createdAt ? (a.versionId < b.versionId ? -1 : 1) : a.createdAt < b.createdAt ? -1 : 1));
  }

  async open(source: string, versionId: string): Promise<Readable> {
    // No timeout on the body: a large version streams for as long as it takes.
    const response = await this.request(this.url(source, versionId, '/data'), undefined);
    if (!response.body) throw new UnavailableError('the ingestion service sent no data');
    return Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
  }
}
