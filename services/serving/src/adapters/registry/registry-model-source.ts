import { z } from 'zod';
import { datatypes } from '../../domain/tensor/datatype';
import type { ModelSource, RegisteredModel, RegisteredVersion } from '../../application/ports';

const tensorSpec = z.object({
  name: z.string().min(1),
  datatype: z.enum(datatypes),
  shape: z.array(z.coerce.number().int().min(-1)),
});

const modelList = z.object({
  models: z.array(
    z.object({
      name: z.string().min(1),
      latestVersion: z.coerce.number().int().min(0),
      aliases: z.record(z.string(), z.coerce.number().int().positive()).default({}),
    }),
  ),
});

const versionDocument = z.object({
  name: z.string().min(1),
  version: z.coerce.number().int().positive(),
  artifact: z.object({ sha256: z.string().regex(/^[0-9a-fA-F]{64}$/), sizeBytes: z.coerce.number().int().min(0), uri: z.string().optional() }),
  signature: z.object({ inputs: z.array(tensorSpec), outputs: z.array(tensorSpec) }),
  status: z.enum(['READY', 'ARCHIVED']),
});

export interface RegistryModelSourceOptions {
  /** Base URL of the registry's REST API, without a trailing slash. */
  readonly baseUrl: string;
  /** Bound on each call, downloads included. */
  readonly timeoutMs?: number;
  /** Largest artifact accepted; a larger one fails the load instead of exhausting memory. */
  readonly maxArtifactBytes?: number;
}

/**
 * The registry's REST API as a `ModelSource`: `GET /v1/models`,
 * `GET /v1/models/{name}/versions/{version}` and `.../artifact`. Every answer is parsed, so a
 * registry that changed its shape fails loudly here rather than deep in a load.
 */
export class RegistryModelSource implements ModelSource {
  private readonly timeoutMs: number;
  private readonly maxArtifactBytes: number;

  constructor(private readonly options: RegistryModelSourceOptions) {
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.maxArtifactBytes = options.maxArtifactBytes ?? 2 * 1024 ** 3;
  }

  async listModels(): Promise<RegisteredModel[]> {
    const response = await this.get('/v1/models');
    if (!response.ok) throw await httpError('listing models', response);
    return modelList.parse(await response.json()).models;
  }

  async getVersion(name: string, version: number): Promise<RegisteredVersion | undefined> {
    const response = await this.get(`/v1/models/${encodeURIComponent(name)}/versions/${version}`);
    if (response.status === 404) return undefined;
    if (!response.ok) throw await httpError(`reading ${name} version ${version}`, response);
    return versionDocument.parse(await response.json());
  }

  async downloadArtifact(name: string, version: number): Promise<Buffer> {
    const response = await this.get(`/v1/models/${encodeURIComponent(name)}/versions/${version}/artifact`);
    if (!response.ok) throw await httpError(`downloading ${name} version ${version}`, response);
    const declared = Number(response.headers.get('content-length') ?? NaN);
    if (declared > this.maxArtifactBytes) throw new Error(`the artifact is ${declared} bytes, more than the ${this.maxArtifactBytes} allowed`);
    return Buffer.from(await response.arrayBuffer());
  }

  private get(path: string): Promise<Response> {
    return fetch(`${this.options.baseUrl}${path}`, { signal: AbortSignal.timeout(this.timeoutMs) });
  }
}

async function httpError(what: string, response: Response): Promise<Error> {
  const body = await response.text().catch(() => '');
  return new Error(`${what}: the registry answered ${response.status}${body ? `: ${body.slice(0, 300)}` : ''}`);
}
