export { eventually } from './eventually';
export { freePort } from './free-port';
export { platformEnv } from './platform-env';
export { createTestDatabase, testInfra, testInfraEnv, type TestInfra } from './test-infra';
export { uniqueName } from './unique-name';
export { startServiceProcess, stopChildProcess, type ServiceProcess, type ServiceProcessOptions } from './service-process';
export { grpcTestClient, unary, type GrpcCallback, type GrpcTestClient } from './grpc-client';
