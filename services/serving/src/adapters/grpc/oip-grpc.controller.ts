import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod, RpcException } from '@nestjs/microservices';
import { status, type Metadata, type ServerUnaryCall } from '@grpc/grpc-js';
import { grpcStatusOf, isLooplineError } from '@loopline/errors';
import { performance } from 'node:perf_hooks';
import { InferenceService } from '../../application/inference-service';
import { ModelMetadataQueries } from '../../application/model-metadata';
import { ServingError, type ServingErrorCode } from '../../application/serving-error';
import { encodeModelInferResponse, parseModelInferRequest, type ModelInferRequestMessage, type ModelInferResponseMessage } from './oip-grpc-codec';

const service = 'GRPCInferenceService';

interface ModelRequest {
  readonly name: string;
  readonly version: string;
}

/**
 * `inference.GRPCInferenceService`, the Open Inference Protocol over gRPC, on the service's gRPC
 * port. Errors are gRPC statuses: INVALID_ARGUMENT, NOT_FOUND, RESOURCE_EXHAUSTED (overload),
 * UNAVAILABLE (not ready), DEADLINE_EXCEEDED (expired while queued), INTERNAL.
 */
@Controller()
export class OipGrpcController {
  constructor(
    @Inject(InferenceService) private readonly inference: InferenceService,
    @Inject(ModelMetadataQueries) private readonly metadata: ModelMetadataQueries,
  ) {}

  @GrpcMethod(service, 'ServerLive')
  serverLive(): { live: boolean } {
    return { live: true };
  }

  @GrpcMethod(service, 'ServerReady')
  serverReady(): { ready: boolean } {
    return { ready: this.metadata.serverReady() };
  }

  @GrpcMethod(service, 'ModelReady')
  modelReady(request: ModelRequest): { ready: boolean } {
    return { ready: this.metadata.modelReadiness(request.name, request.version || undefined) === 'ready' };
  }

  @GrpcMethod(service, 'ServerMetadata')
  serverMetadata(): { name: string; version: string; extensions: string[] } {
    const server = this.metadata.serverMetadata();
    return { name: server.name, version: server.version, extensions: [...server.extensions] };
  }

  @GrpcMethod(service, 'ModelMetadata')
  modelMetadata(request: ModelRequest) {
    try {
      const metadata = this.metadata.modelMetadata(request.name, request.version || undefined);
      return { ...metadata, inputs: metadata.inputs.map((spec) => ({ ...spec, shape: [...spec.shape] })), outputs: metadata.outputs.map((spec) => ({ ...spec, shape: [...spec.shape] })) };
    } catch (error) {
      throw toRpcException(error);
    }
  }

  @GrpcMethod(service, 'ModelInfer')
  async modelInfer(request: ModelInferRequestMessage, _metadata: Metadata, call: ServerUnaryCall<unknown, unknown>): Promise<ModelInferResponseMessage> {
    const receivedAt = performance.timeOrigin + performance.now();
    try {
      const parsed = parseModelInferRequest(request);
      const deadlines = [deadlineOf(call), parsed.timeoutMicros === undefined ? Infinity : receivedAt + parsed.timeoutMicros / 1000];
      const deadline = Math.min(...deadlines);
      const result = await this.inference.infer({
        modelName: request.modelName,
        modelVersion: request.modelVersion,
        id: request.id,
        inputs: parsed.inputs,
        outputs: parsed.outputs,
        deadline: Number.isFinite(deadline) ? deadline : undefined,
        isCancelled: () => call.cancelled,
        receivedAt,
      });
      return encodeModelInferResponse(result, parsed.raw, request.id !== '');
    } catch (error) {
      throw toRpcException(error);
    }
  }
}

function deadlineOf(call: ServerUnaryCall<unknown, unknown>): number {
  const deadline = call.getDeadline();
  if (deadline instanceof Date) return deadline.getTime();
  return typeof deadline === 'number' ? deadline : Infinity;
}

function servingStatus(code: ServingErrorCode): status {
  switch (code) {
    case 'OVERLOADED':
      return status.RESOURCE_EXHAUSTED;
    case 'NOT_READY':
      return status.UNAVAILABLE;
    case 'DEADLINE_EXCEEDED':
      return status.DEADLINE_EXCEEDED;
    case 'INFERENCE_FAILED':
      return status.INTERNAL;
    case 'UNSUPPORTED':
      return status.UNIMPLEMENTED;
    default: {
      const unreachable: never = code;
      throw new Error(`unmapped serving error ${String(unreachable)}`);
    }
  }
}

/** The one place errors become gRPC statuses for the inference service. */
export function toRpcException(error: unknown): RpcException {
  if (isLooplineError(error)) return new RpcException({ code: grpcStatusOf(error.code), message: error.message });
  if (error instanceof ServingError) return new RpcException({ code: servingStatus(error.code), message: error.message });
  return new RpcException({ code: status.INTERNAL, message: 'internal server error' });
}
