import { resolve } from 'node:path';

/** The repository's `proto/` folder: the buf module every .proto path is relative to. */
export const protoRoot: string = resolve(__dirname, '..', '..', '..', 'proto');

export const healthProtoFile = 'grpc/health/v1/health.proto';
