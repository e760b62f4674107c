// `loopline.featurestore.v1` loaded with @grpc/proto-loader the way the service host loads every
// gRPC API (camelCase fields, enums by name, 64-bit integers as strings, oneofs named): for the
// online server's own gRPC port and for clients in tests and benchmarks.
import { join } from 'node:path';
import { loadPackageDefinition, type GrpcObject } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoRoot } from '@loopline/contracts';

export function featureServingPackage(): GrpcObject {
  const definition = loadSync(join(protoRoot, 'loopline/featurestore/v1/feature_serving.proto'), {
    includeDirs: [protoRoot],
    keepCase: false,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  return (loadPackageDefinition(definition).loopline as GrpcObject).featurestore as GrpcObject;
}
