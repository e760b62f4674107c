import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Metadata, ServerUnaryCall } from '@grpc/grpc-js';
import { ValidationError } from '@loopline/errors';
import { fromProtoStruct, toProtoStruct, toProtoValue, type ProtoStruct } from '@loopline/service-host/grpc-values';
import { performance } from 'node:perf_hooks';
import { InferenceService } from '../../application/inference-service';
import { parsePredictBody, presentEntityPrediction } from '../http/entity-predictions';
import { toRpcException } from './oip-grpc.controller';

export interface PredictByEntityMessage {
  readonly modelName: string;
  readonly modelVersion: string;
  readonly id: string;
  readonly entities: Record<string, string>;
  readonly features?: ProtoStruct | null;
  readonly featureService: string;
}

const roles = { primary: 'TRAFFIC_ROLE_PRIMARY', canary: 'TRAFFIC_ROLE_CANARY', shadow: 'TRAFFIC_ROLE_SHADOW' } as const;
const statuses = { present: 'BOUND_FEATURE_STATUS_PRESENT', missing: 'BOUND_FEATURE_STATUS_MISSING', outside_ttl: 'BOUND_FEATURE_STATUS_OUTSIDE_TTL', request: 'BOUND_FEATURE_STATUS_REQUEST' } as const;

/**
 * `loopline.serving.v1.PredictionService` (proto/loopline/serving/v1/serving_service.proto): the
 * same predict-by-entity as `POST /v1/models/{name}/predict`, with the same checks, on the gRPC
 * port; errors map to statuses in the same one place as the OIP service's.
 */
@Controller()
export class PredictionGrpcController {
  constructor(@Inject(InferenceService) private readonly inference: InferenceService) {}

  @GrpcMethod('PredictionService', 'PredictByEntity')
  async predictByEntity(request: PredictByEntityMessage, _metadata: Metadata, call: ServerUnaryCall<unknown, unknown>) {
    const receivedAt = performance.timeOrigin + performance.now();
    try {
      if (!request.modelName) throw new ValidationError('model_name is required', { field: 'model_name' });
      const body = parsePredictBody({
        ...(request.id ? { id: request.id } : {}),
        entities: request.entities ?? {},
        features: fromProtoStruct(request.features),
        ...(request.featureService ? { featureService: request.featureService } : {}),
      });
      const deadline = call.getDeadline();
      const deadlineMs = deadline instanceof Date ? deadline.getTime() : typeof deadline === 'number' && Number.isFinite(deadline) ? deadline : undefined;
      const result = await this.inference.predictByEntity({
        modelName: request.modelName,
        modelVersion: request.modelVersion || undefined,
        id: body.id,
        entities: body.entities,
        features: body.features,
        featureService: body.featureService,
        deadline: deadlineMs,
        isCancelled: () => call.cancelled,
        receivedAt,
      });
      const presented = presentEntityPrediction(result);
      return {
        predictionId: presented.predictionId,
        modelName: presented.modelName,
        modelVersion: presented.modelVersion,
        trafficRole: roles[result.role],
        outputs: toProtoStruct(presented.outputs),
        features: Object.fromEntries(Object.entries(result.features).map(([name, feature]) => [name, { value: toProtoValue(feature.value), status: statuses[feature.status] }])),
      };
    } catch (error) {
      throw toRpcException(error);
    }
  }
}
