// `loopline.registry.v1.ModelRegistry` (proto/loopline/registry/v1/registry_service.proto): the
// same use cases as the REST API. Uploads are client streams written to disk as they arrive
// (async iteration pulls, so gRPC flow control holds back a fast client); downloads write with
// the call's backpressure.
import { once } from 'node:events';
import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod, GrpcStreamCall } from '@nestjs/microservices';
import type { Metadata, ServerReadableStream, ServerWritableStream, sendUnaryData } from '@grpc/grpc-js';
import { EMPTY, type Observable } from 'rxjs';
import { ValidationError } from '@loopline/errors';
import type { RegistrySettings } from '../../config';
import { ModelVersionRegistration } from '../../application/model-version-registration';
import type { ArtifactStore, ReceivedFile, RequestContext, UploadArea } from '../../application/ports';
import { RegistryApplication } from '../../application/registry-application';
import { eventTime } from '../../domain/registered-model/registered-model';
import { actorFrom, actorHeader, correlationHeader } from '../http/request-context';
import { ARTIFACT_STORE, REGISTRY_SETTINGS, UPLOAD_AREA } from '../tokens';
import { grpcErrorOf } from '@loopline/service-host/grpc-errors';
import {
  artifactMessage,
  dateOf,
  evidenceMessage,
  modelMessage,
  policyFrom,
  policyMessage,
  summaryMessage,
  timestampOf,
  uploadMetadataFrom,
  versionMessage,
  type PolicyInput,
} from './grpc-mappers';

const service = 'ModelRegistry';
/** Bytes per download message: well under gRPC's default 4 MiB message limit. */
const downloadChunkBytes = 256 * 1024;

interface UploadMessage {
  metadata?: Parameters<typeof uploadMetadataFrom>[0] | null;
  chunk?: Buffer | null;
  content?: 'metadata' | 'chunk';
}

function contextOf(metadata: Metadata | undefined): RequestContext {
  const actor = metadata?.get(actorHeader)[0];
  const correlation = metadata?.get(correlationHeader)[0];
  return {
    actor: actorFrom(typeof actor === 'string' ? actor : undefined),
    correlationId: typeof correlation === 'string' && /^[\x21-\x7e]{1,200}$/.test(correlation) ? correlation : undefined,
  };
}

@Controller()
export class RegistryGrpcController {
  constructor(
    @Inject(RegistryApplication) private readonly registry: RegistryApplication,
    @Inject(ModelVersionRegistration) private readonly registration: ModelVersionRegistration,
    @Inject(UPLOAD_AREA) private readonly uploads: UploadArea,
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
    @Inject(REGISTRY_SETTINGS) private readonly settings: RegistrySettings,
  ) {}

  @GrpcMethod(service, 'CreateRegisteredModel')
  async createRegisteredModel(request: { name: string; description: string; owner: string; tags: Record<string, string> }, metadata: Metadata) {
    const model = await this.registry.createModel(
      { name: request.name, description: request.description ?? '', owner: request.owner ?? '', tags: request.tags ?? {} },
      contextOf(metadata),
    );
    return { model: modelMessage(model) };
  }

  @GrpcMethod(service, 'GetRegisteredModel')
  async getRegisteredModel(request: { name: string }) {
    return { model: modelMessage(await this.registry.getModel(request.name)) };
  }

  @GrpcMethod(service, 'ListRegisteredModels')
  async listRegisteredModels() {
    return { models: (await this.registry.listModels()).map(summaryMessage) };
  }

  /** Client streaming: the first message is the metadata, every following one a chunk of the file. */
  @GrpcStreamCall(service, 'RegisterModelVersion')
  async registerModelVersion(call: ServerReadableStream<UploadMessage, unknown>, callback: sendUnaryData<unknown>): Promise<void> {
    let file: ReceivedFile | undefined;
    try {
      const messages = call[Symbol.asyncIterator]() as AsyncIterator<UploadMessage>;
      const first = await messages.next();
      if (first.done || !first.value.metadata) {
        throw new ValidationError('the first RegisterModelVersion message must carry `metadata`; the file follows in `chunk` messages', { field: 'metadata' });
      }
      const { name, metadata, idempotencyKey } = uploadMetadataFrom(first.value.metadata);
      const chunks = async function* (): AsyncGenerator<Uint8Array> {
        for (let next = await messages.next(); !next.done; next = await messages.next()) {
          if (next.value.metadata) throw new ValidationError('`metadata` may only be sent in the first message', { field: 'metadata' });
          if (next.value.chunk && next.value.chunk.length > 0) yield next.value.chunk;
        }
      };
      file = await this.uploads.receive(chunks(), { maxBytes: this.settings.maxArtifactBytes, what: 'artifact' });
      const version = await this.registration.register(name, file, metadata, idempotencyKey, contextOf(call.metadata));
      callback(null, { modelVersion: versionMessage(version) });
    } catch (error) {
      callback(grpcErrorOf(error), null);
    } finally {
      if (file) await this.uploads.discard(file);
    }
  }

  @GrpcMethod(service, 'GetModelVersion')
  async getModelVersion(request: { modelName: string; modelVersion: number }) {
    return { modelVersion: versionMessage(await this.registry.getVersion(request.modelName, request.modelVersion)) };
  }

  @GrpcMethod(service, 'ListModelVersions')
  async listModelVersions(request: { modelName: string }) {
    return { modelVersions: (await this.registry.listVersions(request.modelName)).map(versionMessage) };
  }

  /**
   * Server streaming, written here with the call's backpressure; the returned EMPTY only lets
   * Nest end the call. A thrown error (unknown version, damaged blob) leaves through the filter.
   */
  @GrpcMethod(service, 'DownloadModelVersionArtifact')
  async downloadModelVersionArtifact(
    request: { modelName: string; modelVersion: number },
    _metadata: Metadata,
    call: ServerWritableStream<unknown, unknown>,
  ): Promise<Observable<never>> {
    const version = await this.registry.getVersion(request.modelName, request.modelVersion);
    const stream = await this.artifacts.read(version.artifact);
    const write = async (message: unknown) => {
      if (!call.write(message)) await once(call, 'drain');
    };
    await write({ artifact: artifactMessage(version.artifact) });
    let pending: Buffer = Buffer.alloc(0);
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= downloadChunkBytes) {
        await write({ chunk: pending.subarray(0, downloadChunkBytes) });
        pending = pending.subarray(downloadChunkBytes);
      }
    }
    if (pending.length > 0) await write({ chunk: pending });
    return EMPTY;
  }

  @GrpcMethod(service, 'SetModelVersionAlias')
  async setModelVersionAlias(request: { modelName: string; alias: string; modelVersion: number; reason: string }, metadata: Metadata) {
    const moved = await this.registry.setAlias(request.modelName, request.alias, request.modelVersion, request.reason ?? '', contextOf(metadata));
    return { alias: moved.alias, modelVersion: moved.version, previousModelVersion: moved.previousVersion ?? 0 };
  }

  @GrpcMethod(service, 'DeleteModelVersionAlias')
  async deleteModelVersionAlias(request: { modelName: string; alias: string; reason: string }, metadata: Metadata) {
    const removed = await this.registry.removeAlias(request.modelName, request.alias, request.reason ?? '', contextOf(metadata));
    return { alias: removed.alias, modelVersion: removed.version };
  }

  @GrpcMethod(service, 'ResolveModelVersionAlias')
  async resolveModelVersionAlias(request: { modelName: string; alias: string; at?: { seconds?: string; nanos?: number } | null }) {
    const version = await this.registry.resolveAlias(request.modelName, request.alias, dateOf(request.at));
    return { alias: request.alias, modelVersion: version };
  }

  @GrpcMethod(service, 'ArchiveModelVersion')
  async archiveModelVersion(request: { modelName: string; modelVersion: number; reason: string }, metadata: Metadata) {
    return { modelVersion: versionMessage(await this.registry.archiveVersion(request.modelName, request.modelVersion, request.reason ?? '', contextOf(metadata))) };
  }

  @GrpcMethod(service, 'SetPromotionPolicy')
  async setPromotionPolicy(request: { modelName: string; policy: PolicyInput | null }, metadata: Metadata) {
    return { policy: policyMessage(await this.registry.setPolicy(request.modelName, policyFrom(request.policy), contextOf(metadata))) };
  }

  @GrpcMethod(service, 'GetPromotionPolicy')
  async getPromotionPolicy(request: { modelName: string }) {
    return { policy: policyMessage(await this.registry.getPolicy(request.modelName)) };
  }

  @GrpcMethod(service, 'EvaluatePromotion')
  async evaluatePromotion(request: { modelName: string; modelVersion: number; alias: string }) {
    return { evidence: evidenceMessage(await this.registry.evaluatePromotion(request.modelName, request.modelVersion, request.alias || 'champion')) };
  }

  @GrpcMethod(service, 'PromoteModelVersion')
  async promoteModelVersion(request: { modelName: string; modelVersion: number; alias: string; reason: string }, metadata: Metadata) {
    const result = await this.registry.promote(request.modelName, request.modelVersion, request.alias || 'champion', request.reason ?? '', contextOf(metadata));
    return { alias: result.alias, modelVersion: result.version, previousModelVersion: result.previousVersion ?? 0, evidence: evidenceMessage(result.evidence) };
  }

  @GrpcMethod(service, 'GetModelHistory')
  async getModelHistory(request: { modelName: string }) {
    const events = await this.registry.history(request.modelName);
    return {
      events: events.map((event) => ({
        position: String(event.streamPosition),
        type: event.type,
        time: timestampOf(eventTime(event)),
        actor: event.metadata.actor,
        dataJson: JSON.stringify(event.data),
      })),
    };
  }
}
