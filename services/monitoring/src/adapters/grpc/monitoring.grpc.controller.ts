// `loopline.monitoring.v1.MonitoringService` (proto/loopline/monitoring/v1/monitoring_service.proto).
// Messages arrive and leave as @grpc/proto-loader objects (camelCase; Struct and Value as their
// proto shapes, converted here). Errors map to gRPC statuses in the host's one error filter.
import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { NotFoundError } from '@loopline/errors';
import { ClickHouseLogStore } from '../clickhouse/log-store';
import { LabelPublisher } from '../kafka/label-publisher';
import { labelsBody, parseBody } from '../http/request-schemas';
import { presentPerformance, presentPrediction } from '../http/presenters';
import { splitPredictionRef } from '../../domain/log/prediction-rows';

const service = 'MonitoringService';

interface ProtoValue {
  kind?: 'nullValue' | 'numberValue' | 'stringValue' | 'boolValue' | 'structValue' | 'listValue';
  nullValue?: string;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: { fields?: Record<string, ProtoValue> };
  listValue?: { values?: ProtoValue[] };
}

interface ProtoTimestamp {
  seconds?: number | string | { toString(): string };
  nanos?: number;
}

function fromValue(value: ProtoValue | undefined): unknown {
  if (!value) return null;
  if (value.numberValue !== undefined && (value.kind === undefined || value.kind === 'numberValue')) return value.numberValue;
  if (value.stringValue !== undefined && (value.kind === undefined || value.kind === 'stringValue')) return value.stringValue;
  if (value.boolValue !== undefined && (value.kind === undefined || value.kind === 'boolValue')) return value.boolValue;
  if (value.structValue) return Object.fromEntries(Object.entries(value.structValue.fields ?? {}).map(([key, entry]) => [key, fromValue(entry)]));
  if (value.listValue) return (value.listValue.values ?? []).map(fromValue);
  return null;
}

function toValue(value: unknown): ProtoValue {
  if (value === null || value === undefined) return { nullValue: 'NULL_VALUE' };
  if (typeof value === 'number') return { numberValue: value };
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (Array.isArray(value)) return { listValue: { values: value.map(toValue) } };
  return { structValue: toStruct(value as Record<string, unknown>) };
}

function toStruct(object: Record<string, unknown>): { fields: Record<string, ProtoValue> } {
  return { fields: Object.fromEntries(Object.entries(object).map(([key, value]) => [key, toValue(value)])) };
}

function isoOf(timestamp: ProtoTimestamp | undefined | null): string | undefined {
  if (!timestamp || timestamp.seconds === undefined) return undefined;
  return new Date(Number(String(timestamp.seconds)) * 1000 + Math.floor((timestamp.nanos ?? 0) / 1e6)).toISOString();
}

@Controller()
export class MonitoringGrpcController {
  constructor(
    @Inject(ClickHouseLogStore) private readonly log: ClickHouseLogStore,
    @Inject(LabelPublisher) private readonly labels: LabelPublisher,
  ) {}

  @GrpcMethod(service, 'SendLabels')
  async sendLabels(request: { labels?: { predictionId?: string; modelName?: string; entityKeys?: Record<string, string>; targetName?: string; value?: ProtoValue; eventTime?: ProtoTimestamp }[] }) {
    const body = {
      labels: (request.labels ?? []).map((label) => ({
        ...(label.predictionId ? { predictionId: label.predictionId } : {}),
        ...(label.modelName ? { modelName: label.modelName } : {}),
        ...(label.entityKeys && Object.keys(label.entityKeys).length > 0 ? { entityKeys: label.entityKeys } : {}),
        targetName: label.targetName ?? '',
        value: fromValue(label.value),
        eventTime: isoOf(label.eventTime),
      })),
    };
    const { labels } = parseBody(labelsBody, body, 'request');
    const accepted = await this.labels.publish(
      labels.map((label) => ({ ...label, eventTime: new Date(label.eventTime) })),
      new Date(),
    );
    return { accepted };
  }

  @GrpcMethod(service, 'GetPrediction')
  async getPrediction(request: { predictionId?: string }) {
    const { predictionId, rowIndex } = splitPredictionRef(request.predictionId ?? '');
    const prediction = predictionId === '' ? undefined : await this.log.prediction(predictionId, rowIndex);
    if (!prediction) throw new NotFoundError(`prediction "${request.predictionId ?? ''}" is unknown (it may not be stored yet)`, { predictionId: request.predictionId });
    return { prediction: toStruct(presentPrediction(prediction) as unknown as Record<string, unknown>) };
  }

  @GrpcMethod(service, 'GetModelPerformance')
  async getModelPerformance(request: { modelName?: string; from?: ProtoTimestamp; to?: ProtoTimestamp; targetName?: string }) {
    const modelName = request.modelName ?? '';
    const from = isoOf(request.from);
    const to = isoOf(request.to);
    const targetName = request.targetName || (await this.log.labelTargets(modelName))[0] || null;
    const window = from === undefined && to === undefined ? null : { kind: 'time' as const, startMs: from ? Date.parse(from) : 0, endMs: to ? Date.parse(to) : 8_000_000_000_000 };
    const versions = await this.log.performance({ modelName, modelVersion: null, window, targetName });
    return { performance: toStruct(presentPerformance(modelName, targetName, versions) as unknown as Record<string, unknown>) };
  }
}
