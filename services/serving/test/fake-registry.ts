import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { encodeEvent, ModelVersionAliasRemovedSchema, ModelVersionAliasSetSchema } from '@loopline/contracts';
import type { Kafka, Producer } from 'kafkajs';
import { InferenceSession } from 'onnxruntime-node';

/**
 * A stand-in for the registry in serving's tests, until the real one exists: a real HTTP server
 * with exactly the registry routes serving reads (`GET /v1/models`,
 * `GET /v1/models/{name}/versions/{version}`, `GET .../artifact` with `x-loopline-sha256`),
 * serving real ONNX files; alias moves are published as real `ModelVersionAliasSet` events on
 * Kafka. The signature of a version is read from the file with ONNX Runtime, as the registry does.
 */
export interface TensorSpecJson {
  readonly name: string;
  readonly datatype: string;
  readonly shape: number[];
}

interface StoredVersion {
  readonly bytes: Buffer;
  readonly sha256: string;
  readonly signature: { inputs: TensorSpecJson[]; outputs: TensorSpecJson[] };
}

const datatypeOf: Record<string, string> = {
  bool: 'BOOL', uint8: 'UINT8', uint16: 'UINT16', uint32: 'UINT32', uint64: 'UINT64', int8: 'INT8', int16: 'INT16', int32: 'INT32', int64: 'INT64',
  float16: 'FP16', float32: 'FP32', float64: 'FP64', string: 'BYTES',
};

export class FakeRegistry {
  private readonly models = new Map<string, { versions: Map<number, StoredVersion>; aliases: Map<string, number> }>();
  private server: Server | undefined;
  private producer: Producer | undefined;
  /** Requests served, e.g. `GET /v1/models`. */
  readonly requests: string[] = [];
  url = '';

  constructor(private readonly kafka?: Kafka) {}

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      this.requests.push(`${request.method} ${request.url}`);
      const path = (request.url ?? '/').split('?')[0];
      const send = (status: number, body: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      if (path === '/v1/models') {
        return send(200, {
          models: [...this.models].map(([name, model]) => ({ name, latestVersion: Math.max(0, ...model.versions.keys()), aliases: Object.fromEntries(model.aliases) })),
        });
      }
      const match = /^\/v1\/models\/([^/]+)\/versions\/(\d+)(\/artifact)?$/.exec(path);
      const stored = match ? this.models.get(decodeURIComponent(match[1]))?.versions.get(Number(match[2])) : undefined;
      if (!match || !stored) return send(404, { error: 'not found' });
      if (match[3]) {
        response.writeHead(200, { 'content-type': 'application/octet-stream', 'x-loopline-sha256': stored.sha256, 'content-length': stored.bytes.length });
        response.end(stored.bytes);
        return;
      }
      return send(200, {
        name: decodeURIComponent(match[1]),
        version: Number(match[2]),
        artifact: { sha256: stored.sha256, sizeBytes: stored.bytes.length },
        signature: stored.signature,
        status: 'READY',
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    if (this.kafka) {
      this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      await this.producer.connect();
    }
    return this;
  }

  async stop(): Promise<void> {
    await this.producer?.disconnect();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  /**
   * Registers a version. Its signature is read from the file; a file ONNX Runtime cannot read
   * (the truncated-file test) needs `signature` given.
   */
  async addVersion(name: string, version: number, bytes: Buffer, signature?: StoredVersion['signature'], sha256?: string): Promise<void> {
    const model = this.models.get(name) ?? { versions: new Map(), aliases: new Map() };
    this.models.set(name, model);
    model.versions.set(version, { bytes, sha256: sha256 ?? createHash('sha256').update(bytes).digest('hex'), signature: signature ?? (await readSignature(bytes)) });
  }

  /** Points an alias at a version, without telling anyone (the state a starting serving reads). */
  setAliasQuietly(name: string, alias: string, version: number): void {
    const model = this.models.get(name);
    if (!model) throw new Error(`no model ${name}`);
    model.aliases.set(alias, version);
  }

  /** Points an alias at a version and publishes `ModelVersionAliasSet`, as the registry does. */
  async setAlias(name: string, alias: string, version: number): Promise<void> {
    const previous = this.models.get(name)?.aliases.get(alias) ?? 0;
    this.setAliasQuietly(name, alias, version);
    const time = new Date();
    const message = encodeEvent({
      topic: 'loopline.registry.model-versions.v1',
      key: name,
      id: `${name}-${alias}-${version}-${time.getTime()}-${Math.random()}`,
      source: '/loopline/registry',
      time,
      message: create(ModelVersionAliasSetSchema, { modelName: name, alias, modelVersion: version, previousModelVersion: previous, actor: 'user:test', reason: 'test', setAt: timestampFromMs(time.getTime()) }),
    });
    await this.producer!.send({ topic: 'loopline.registry.model-versions.v1', messages: [message], acks: -1 });
  }

  async removeAlias(name: string, alias: string): Promise<void> {
    const model = this.models.get(name)!;
    const version = model.aliases.get(alias) ?? 0;
    model.aliases.delete(alias);
    const time = new Date();
    const message = encodeEvent({
      topic: 'loopline.registry.model-versions.v1',
      key: name,
      id: `${name}-${alias}-removed-${time.getTime()}-${Math.random()}`,
      source: '/loopline/registry',
      time,
      message: create(ModelVersionAliasRemovedSchema, { modelName: name, alias, modelVersion: version, actor: 'user:test', reason: 'test', removedAt: timestampFromMs(time.getTime()) }),
    });
    await this.producer!.send({ topic: 'loopline.registry.model-versions.v1', messages: [message], acks: -1 });
  }
}

async function readSignature(bytes: Buffer): Promise<StoredVersion['signature']> {
  const session = await InferenceSession.create(bytes);
  const specs = (metadata: readonly InferenceSession.ValueMetadata[]) =>
    metadata.map((value) => {
      if (!value.isTensor) throw new Error(`${value.name} is not a tensor`);
      return { name: value.name, datatype: datatypeOf[value.type], shape: value.shape.map((dim) => (typeof dim === 'number' ? dim : -1)) };
    });
  const signature = { inputs: specs(session.inputMetadata), outputs: specs(session.outputMetadata) };
  await session.release();
  return signature;
}
