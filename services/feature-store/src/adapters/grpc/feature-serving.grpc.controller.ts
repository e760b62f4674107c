// `loopline.featurestore.v1.FeatureServingService` (proto/loopline/featurestore/v1/feature_serving.proto).
// Messages arrive and leave as @grpc/proto-loader objects (camelCase, enums by name, oneofs named).
import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { fromProtoStruct, type ProtoStruct } from '@loopline/service-host/grpc-values';
import type { ValueType } from '../../domain/definitions/definitions';
import { OnlineFeatures, type EntityValue, type FeatureVector, type PushTarget } from '../../application/online-features';

const service = 'FeatureServingService';

const statusNames = { PRESENT: 'FIELD_STATUS_PRESENT', NULL_VALUE: 'FIELD_STATUS_NULL_VALUE', NOT_FOUND: 'FIELD_STATUS_NOT_FOUND', OUTSIDE_TTL: 'FIELD_STATUS_OUTSIDE_TTL' } as const;

const valueTypeNames: Record<ValueType, string> = {
  int64: 'FEATURE_VALUE_TYPE_INT64',
  double: 'FEATURE_VALUE_TYPE_DOUBLE',
  string: 'FEATURE_VALUE_TYPE_STRING',
  bool: 'FEATURE_VALUE_TYPE_BOOL',
  timestamp: 'FEATURE_VALUE_TYPE_TIMESTAMP',
};

/** A feature's values as the typed packed list of its type (placeholders where not PRESENT). */
function vectorMessage(vector: FeatureVector, type: ValueType) {
  const count = vector.values.length;
  const statuses = new Array<string>(count);
  const times = new Array<number>(count);
  for (let row = 0; row < count; row += 1) {
    statuses[row] = statusNames[vector.statuses[row]!];
    times[row] = vector.eventTimestamps[row] ?? 0;
  }
  const values = vector.values;
  const base = { valueType: valueTypeNames[type], statuses, eventTimestampsMs: times };
  switch (type) {
    case 'double':
      return { ...base, doubleValues: values.map((value) => (typeof value === 'number' ? value : 0)) };
    case 'int64':
      return { ...base, int64Values: values.map((value) => (typeof value === 'number' ? Math.trunc(value) : 0)) };
    case 'bool':
      return { ...base, boolValues: values.map((value) => value === true) };
    case 'string':
    case 'timestamp':
      return { ...base, stringValues: values.map((value) => (value === null ? '' : String(value))) };
    default: {
      const unreachable: never = type;
      throw new Error(`unknown type ${String(unreachable)}`);
    }
  }
}

const pushTargets: Record<string, PushTarget> = {
  PUSH_TARGET_UNSPECIFIED: 'online_and_offline',
  PUSH_TARGET_ONLINE: 'online',
  PUSH_TARGET_OFFLINE: 'offline',
  PUSH_TARGET_ONLINE_AND_OFFLINE: 'online_and_offline',
};

@Controller()
export class FeatureServingGrpcController {
  constructor(@Inject(OnlineFeatures) private readonly online: OnlineFeatures) {}

  @GrpcMethod(service, 'GetOnlineFeatures')
  async getOnlineFeatures(request: { kind?: string; featureService?: string; features?: { references?: string[] } | null; entities?: Record<string, { values?: string[] }> }) {
    const entities: Record<string, EntityValue[]> = {};
    for (const [key, list] of Object.entries(request.entities ?? {})) entities[key] = list.values ?? [];
    const response = await this.online.get({
      featureService: request.kind === 'featureService' ? request.featureService : undefined,
      features: request.kind === 'features' ? (request.features?.references ?? []) : undefined,
      entities,
    });
    return { featureNames: response.featureNames, results: response.results.map((vector, index) => vectorMessage(vector, response.featureTypes[index]!)) };
  }

  @GrpcMethod(service, 'PushFeatures')
  async pushFeatures(request: { featureView?: string; to?: string; rows?: ProtoStruct[] }) {
    const rows = (request.rows ?? []).map(fromProtoStruct);
    const result = await this.online.push({ featureView: request.featureView ?? '', to: pushTargets[request.to ?? 'PUSH_TARGET_UNSPECIFIED'] ?? 'online_and_offline', rows });
    return { onlineRowCount: String(result.onlineRowCount), offlineRowCount: String(result.offlineRowCount) };
  }
}
