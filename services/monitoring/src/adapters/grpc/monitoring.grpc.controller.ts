// `loopline.monitoring.v1.MonitoringService` (proto/loopline/monitoring/v1/monitoring_service.proto).
// Messages arrive and leave as @grpc/proto-loader objects (camelCase; Struct and Value as their
// proto shapes, converted here). Errors map to gRPC statuses in the host's one error filter.
import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { NotFoundError } from '@loopline/errors';
import { fromProtoValue, toProtoStruct, type ProtoValue } from '@loopline/service-host/grpc-values';
import { ClickHouseLogStore } from '../clickhouse/log-store';
import { LabelPublisher } from '../kafka/label-publisher';
import { labelsBody, parseBody } from '../http/request-schemas';
import { presentPerformance, presentPrediction } from '../http/presenters';
import { splitPredictionRef } from '../../domain/log/prediction-rows';

const service = 'MonitoringService';

interface ProtoTimestamp {
  seconds?: number | string | { toString(): string };
  nanos?: number;
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
        value: fromProtoValue(label.value),
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
    return { prediction: toProtoStruct(presentPrediction(prediction)) };
  }

  @GrpcMethod(service, 'GetModelPerformance')
  async getModelPerformance(request: { modelName?: string; from?: ProtoTimestamp; to?: ProtoTimestamp; targetName?: string }) {
    const modelName = request.modelName ?? '';
    const from = isoOf(request.from);
    const to = isoOf(request.to);
    const targetName = request.targetName || (await this.log.labelTargets(modelName))[0] || null;
    const window = from === undefined && to === undefined ? null : { kind: 'time' as const, startMs: from ? Date.parse(from) : 0, endMs: to ? Date.parse(to) : 8_000_000_000_000 };
    const versions = await this.log.performance({ modelName, modelVersion: null, window, targetName });
    return { performance: toProtoStruct(presentPerformance(modelName, targetName, versions)) };
  }
}
