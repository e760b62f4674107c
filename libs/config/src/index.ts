export { ConfigError, loadConfig } from './load-config';
export { defaultPorts, serviceNames, type ServiceName } from './ports';
export { loadServiceConfig, serviceConfigSchema, type ServiceConfig } from './service-config';
