// `loopline.featurestore.v1.FeatureServingService` (proto/loopline/featurestore/v1/feature_serving.proto).
// Messages arrive and leave as @grpc/proto-loader objects (camelCase, enums by name, oneofs named).
import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { fromProtoStruct, type ProtoStruct } from '@loopline/service-host/grpc-values';
import { OnlineFeatures, type PushTarget } from '../../application/online-features';
import { onlineFeaturesMessage, onlineRequestOf, type OnlineFeaturesMessage } from '../online-wire';

const service = 'FeatureServingService';

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
  async getOnlineFeatures(request: OnlineFeaturesMessage) {
    return onlineFeaturesMessage(await this.online.get(onlineRequestOf(request)));
  }

  @GrpcMethod(service, 'PushFeatures')
  async pushFeatures(request: { featureView?: string; to?: string; rows?: ProtoStruct[] }) {
    const rows = (request.rows ?? []).map(fromProtoStruct);
    const result = await this.online.push({ featureView: request.featureView ?? '', to: pushTargets[request.to ?? 'PUSH_TARGET_UNSPECIFIED'] ?? 'online_and_offline', rows });
    return { onlineRowCount: String(result.onlineRowCount), offlineRowCount: String(result.offlineRowCount) };
  }
}
