// The model registry's REST API (services/registry/README.md): `POST /v1/models` to create a
// model (409: it exists), `POST /v1/models/{name}/versions` multipart (`artifact` = the ONNX
// file, `metadata` = JSON) with an `Idempotency-Key`, so a retried registration returns the
// version the first one made.
import { IllegalStateError, UnavailableError, ValidationError } from '@loopline/errors';
import type { ModelRegistry, ModelVersionMetadata } from '../../application/ports';

export class HttpModelRegistry implements ModelRegistry {
  constructor(
    private readonly baseUrl: string,
    private readonly actor: string,
    private readonly timeoutMs = 120_000,
  ) {}

  async ensureModel(name: string, description: string): Promise<void> {
    const response = await this.send(`/v1/models`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-loopline-actor': this.actor },
      body: JSON.stringify({ name, description }),
    });
    if (response.status === 201 || response.status === 409) return;
    await this.fail(response, `creating registered model "${name}"`);
  }

  async registerVersion(name: string, onnx: Uint8Array, metadata: ModelVersionMetadata, idempotencyKey: string): Promise<{ readonly version: number }> {
    const form = new FormData();
    form.append('metadata', JSON.stringify(metadata));
    form.append('artifact', new Blob([onnx], { type: 'application/octet-stream' }), 'model.onnx');
    const response = await this.send(`/v1/models/${encodeURIComponent(name)}/versions`, {
      method: 'POST',
      headers: { 'idempotency-key': idempotencyKey, 'x-loopline-actor': this.actor },
      body: form,
    });
    if (response.status !== 201 && response.status !== 200) await this.fail(response, `registering a version of "${name}"`);
    const body = (await response.json()) as { version?: number };
    if (typeof body.version !== 'number') throw new UnavailableError(`the registry answered without a version number for "${name}"`);
    return { version: body.version };
  }

  private async send(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(`${this.baseUrl}${path}`, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw new UnavailableError(`the registry (${this.baseUrl}) cannot be reached: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private async fail(response: Response, what: string): Promise<never> {
    const text = await response.text();
    let message = text;
    try {
      message = (JSON.parse(text) as { error?: string }).error ?? text;
    } catch {
      // not JSON: keep the text
    }
    const detail = `${what}: registry answered ${response.status}: ${message.slice(0, 1_000)}`;
    if (response.status === 400 || response.status === 404) throw new ValidationError(detail, { registryStatus: response.status });
    if (response.status === 409) throw new IllegalStateError(detail, { registryStatus: response.status });
    throw new UnavailableError(detail, { registryStatus: response.status });
  }
}
