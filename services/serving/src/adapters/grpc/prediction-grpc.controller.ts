import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Metadata, ServerUnaryCall } from '@grpc/grpc-js';
import { ValidationError } from '@loopline/errors';
import { performance } from 'node:perf_hooks';
import { InferenceService } from '../../application/inference-service';
import { parsePredictBody, presentEntityPrediction } from '../http/entity-predictions';
import { toRpcException } from './oip-grpc.controller';

/** google.protobuf.Value as proto-loader hands it over and takes it (oneof `kind`). */
export interface ProtoValue {
  kind?: 'nullValue' | 'numberValue' | 'stringValue' | 'boolValue' | 'structValue' | 'listValue';
  nullValue?: string | number;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: { fields?: Record<string, ProtoValue> };
  listValue?: { values?: ProtoValue[] };
}

export interface PredictByEntityMessage {
  readonly modelName: string;
  readonly modelVersion: string;
  readonly id: string;
  readonly entities: Record<string, string>;
  readonly features?: { fields?: Record<string, ProtoValue> } | null;
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
        features: fromStruct(request.features),
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
        outputs: { fields: Object.fromEntries(Object.entries(presented.outputs).map(([name, value]) => [name, toProtoValue(value)])) },
        features: Object.fromEntries(Object.entries(result.features).map(([name, feature]) => [name, { value: toProtoValue(feature.value), status: statuses[feature.status] }])),
      };
    } catch (error) {
      throw toRpcException(error);
    }
  }
}

function fromStruct(struct: { fields?: Record<string, ProtoValue> } | null | undefined): Record<string, unknown> {
  return Object.fromEntries(Object.entries(struct?.fields ?? {}).map(([key, value]) => [key, fromProtoValue(value)]));
}

export function fromProtoValue(value: ProtoValue | undefined): unknown {
  switch (value?.kind) {
    case 'numberValue':
      return value.numberValue;
    case 'stringValue':
      return value.stringValue;
    case 'boolValue':
      return value.boolValue;
    case 'structValue':
      return fromStruct(value.structValue);
    case 'listValue':
      return (value.listValue?.values ?? []).map(fromProtoValue);
    default:
      return null;
  }
}

export function toProtoValue(value: unknown): ProtoValue {
  if (value === null || value === undefined) return { nullValue: 'NULL_VALUE' };
  if (typeof value === 'number') return Number.isFinite(value) ? { numberValue: value } : { nullValue: 'NULL_VALUE' };
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (Array.isArray(value)) return { listValue: { values: value.map(toProtoValue) } };
  if (typeof value === 'object') return { structValue: { fields: Object.fromEntries(Object.entries(value).map(([key, item]) => [key, toProtoValue(item)])) } };
  return { stringValue: String(value) };
}
