// What monitoring reads from the registry over REST: which version an alias points at, and a
// version's signature, metrics, reference profile and lineage (the training set it was fit on).
import { NotFoundError, UnavailableError } from '@loopline/errors';

export interface TensorSpec {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
}

export interface NumericProfile {
  readonly kind: 'numeric';
  readonly count: number;
  readonly missing: number;
  readonly min?: number;
  readonly max?: number;
  readonly histogram?: { readonly edges: number[]; readonly counts: number[] };
}

export interface CategoricalProfile {
  readonly kind: 'categorical';
  readonly count: number;
  readonly missing: number;
  readonly frequencies: Record<string, number>;
}

export interface ReferenceProfile {
  readonly rowCount: number;
  readonly features: Record<string, NumericProfile | CategoricalProfile>;
}

export interface ModelVersionInfo {
  readonly name: string;
  readonly version: number;
  readonly signature: { readonly inputs: readonly TensorSpec[]; readonly outputs: readonly TensorSpec[] };
  readonly metrics: Record<string, number>;
  readonly lineage: { readonly trainingSetId: string };
  readonly referenceProfile: ReferenceProfile | null;
}

export class RegistryClient {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 10_000,
  ) {}

  /** The version an alias points at now; undefined when the alias is not set. */
  async aliasVersion(modelName: string, alias: string): Promise<number | undefined> {
    const body = await this.get<{ version: number | { version: number } }>(`/v1/models/${encodeURIComponent(modelName)}/aliases/${encodeURIComponent(alias)}`, true);
    if (body === undefined) return undefined;
    return typeof body.version === 'number' ? body.version : body.version.version;
  }

  async version(modelName: string, version: number): Promise<ModelVersionInfo | undefined> {
    const body = await this.get<Partial<ModelVersionInfo> & { referenceProfile?: ReferenceProfile | null }>(`/v1/models/${encodeURIComponent(modelName)}/versions/${version}`, true);
    if (body === undefined) return undefined;
    return {
      name: modelName,
      version,
      signature: { inputs: body.signature?.inputs ?? [], outputs: body.signature?.outputs ?? [] },
      metrics: body.metrics ?? {},
      lineage: { trainingSetId: body.lineage?.trainingSetId ?? '' },
      referenceProfile: body.referenceProfile ?? null,
    };
  }

  private async get<T>(path: string, missingIsUndefined: boolean): Promise<T | undefined> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw new UnavailableError(`the registry (${this.baseUrl}) cannot be reached: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (response.status === 404 && missingIsUndefined) {
      await response.body?.cancel();
      return undefined;
    }
    if (response.status === 404) throw new NotFoundError(`registry: ${path} not found`);
    if (!response.ok) throw new UnavailableError(`the registry answered ${response.status} to GET ${path}: ${(await response.text()).slice(0, 300)}`);
    return (await response.json()) as T;
  }
}
