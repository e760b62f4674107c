export { collectProblems, ConfigError, loadConfig } from './load-config';
export { loadPlatformConfig, platformConfigSchema, type PlatformConfig } from './platform-config';
export { defaultPorts, featureStoreOnlinePorts, serviceNames, type ServiceName } from './ports';
export { envPrefix, loadServiceConfig, serviceConfigSchema, type ServiceConfig } from './service-config';
