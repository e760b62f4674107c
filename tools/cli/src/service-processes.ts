import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { defaultPorts, envPrefix, featureStoreOnlinePorts, serviceNames, type PlatformConfig, type ServiceName } from '@loopline/config';
import type { ComponentSpec, InfrastructureLayout } from '@loopline/infra';

const repositoryRoot = resolve(__dirname, '..', '..', '..');

/** Each service's own database in the local PostgreSQL: services never share tables. */
export function serviceDatabase(service: ServiceName): string {
  return `loopline_${service.replace(/-/g, '_')}`;
}

export function servicePorts(service: ServiceName, env: NodeJS.ProcessEnv): { http: number; grpc: number } {
  const prefix = envPrefix(service);
  return {
    http: Number(env[`${prefix}HTTP_PORT`] ?? defaultPorts[service].http),
    grpc: Number(env[`${prefix}GRPC_PORT`] ?? defaultPorts[service].grpc),
  };
}

/** Ports a service listens on besides its HTTP and gRPC ones: the feature store's online server. */
function extraPorts(service: ServiceName, env: NodeJS.ProcessEnv): { label: string; scheme: string; port: number; setting: string }[] {
  if (service !== 'feature-store' || env.LOOPLINE_FEATURE_STORE_ONLINE_SERVER === 'false') return [];
  const http = 'LOOPLINE_FEATURE_STORE_ONLINE_HTTP_PORT';
  const grpc = 'LOOPLINE_FEATURE_STORE_ONLINE_GRPC_PORT';
  return [
    { label: 'online', scheme: 'http', port: Number(env[http] ?? featureStoreOnlinePorts.http), setting: http },
    { label: 'online', scheme: 'grpc', port: Number(env[grpc] ?? featureStoreOnlinePorts.grpc), setting: grpc },
  ];
}

/** `LOOPLINE_<SERVICE>_URL` of every service, so each finds the others wherever their ports are. */
function serviceUrls(host: string, env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(serviceNames.map((service) => [`${envPrefix(service)}URL`, `http://${host}:${servicePorts(service, env).http}`]));
}

export async function serviceReady(host: string, httpPort: number): Promise<boolean> {
  const response = await fetch(`http://${host}:${httpPort}/health/ready`, { signal: AbortSignal.timeout(1_000) });
  return response.status === 200;
}

/** A service as a supervised process: its TypeScript entry point run through SWC. */
export function serviceComponent(
  service: ServiceName,
  layout: InfrastructureLayout,
  config: PlatformConfig,
  connections: { kafkaBrokers: string[]; postgresUrl: string },
  env: NodeJS.ProcessEnv,
): ComponentSpec {
  const ports = servicePorts(service, env);
  const extra = extraPorts(service, env);
  const entry = join(repositoryRoot, 'services', service, 'src', 'main.ts');
  return {
    name: service,
    pidFile: layout.pidFile(service),
    logFile: layout.logFile(service),
    marker: entry,
    endpoint: [`http://${config.host}:${ports.http} grpc://${config.host}:${ports.grpc}`, ...extra.map((port) => `${port.label} ${port.scheme}://${config.host}:${port.port}`)].join(' '),
    host: config.host,
    ports: [
      { port: ports.http, setting: `${envPrefix(service)}HTTP_PORT` },
      { port: ports.grpc, setting: `${envPrefix(service)}GRPC_PORT` },
      ...extra.map(({ port, setting }) => ({ port, setting })),
    ],
    startTimeoutMs: config.startTimeoutMs,
    stopSignal: 'SIGTERM',
    stopGraceMs: 15_000,
    healthy: () => serviceReady(config.host, ports.http),
    spawnOptions: () => ({
      command: process.execPath,
      args: ['--require', '@swc-node/register', entry],
      cwd: repositoryRoot,
      env: {
        ...env,
        ...serviceUrls(config.host, env),
        SWC_NODE_PROJECT: join(repositoryRoot, 'tsconfig.json'),
        LOOPLINE_HOST: config.host,
        LOOPLINE_DATA_DIR: layout.root,
        LOOPLINE_KAFKA_BROKERS: connections.kafkaBrokers.join(','),
        LOOPLINE_POSTGRES_URL: connections.postgresUrl,
        ...(config.clickhouseUrl ? { LOOPLINE_CLICKHOUSE_URL: config.clickhouseUrl } : {}),
        LOOPLINE_TRAINING_CODE_COMMIT: env.LOOPLINE_TRAINING_CODE_COMMIT ?? workingCommit(),
      },
    }),
  };
}

/**
 * The commit checked out where `loopline` runs — the user's repository, holding their pipelines,
 * feature definitions and trainers — which training records on every run for lineage; empty
 * outside a git checkout.
 */
function workingCommit(): string {
  const result = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: process.cwd(), encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : '';
}
