export { eventually } from './eventually';
export { createTestDatabase, testInfra, testInfraEnv, type TestInfra } from './test-infra';
export { uniqueName } from './unique-name';
