import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startService, type RunningService } from '@loopline/service-host';
import { loadConfig, type ServingConfig } from '../src/config';
import { servingService } from '../src/service';

export interface ServingUnderTest {
  readonly service: RunningService<ServingConfig>;
  readonly httpUrl: string;
  readonly grpcAddress: string;
  stop(): Promise<void>;
}

export interface StartServingOptions {
  readonly registryUrl: string;
  readonly kafkaBrokers?: readonly string[];
  /** A folder of this test's own (the prediction spool lives under it). */
  readonly dataDir: string;
  /** Models to serve; the tests always restrict serving to their own models (the test Kafka is shared). */
  readonly models: readonly string[];
  /** Further LOOPLINE_* variables. */
  readonly env?: Readonly<Record<string, string>>;
}

/** Starts the real serving service in this process, on free ports, through the service host. */
export async function startServing(options: StartServingOptions): Promise<ServingUnderTest> {
  const env: NodeJS.ProcessEnv = {
    LOOPLINE_HOST: '127.0.0.1',
    LOOPLINE_SERVING_HTTP_PORT: '0',
    // The host reports the configured gRPC port, so it must be a real one (0 would bind a random one).
    LOOPLINE_SERVING_GRPC_PORT: String(await freePort()),
    LOOPLINE_DATA_DIR: options.dataDir,
    LOOPLINE_LOG_LEVEL: process.env.LOOPLINE_TEST_LOG_LEVEL ?? 'warn',
    LOOPLINE_REGISTRY_URL: options.registryUrl,
    LOOPLINE_SERVING_MODELS: options.models.join(','),
    ...(options.kafkaBrokers ? { LOOPLINE_KAFKA_BROKERS: options.kafkaBrokers.join(',') } : {}),
    ...options.env,
  };
  const service = await startService({ ...servingService, loadConfig: () => loadConfig(env) });
  return {
    service,
    httpUrl: service.httpUrl,
    grpcAddress: service.grpcAddress,
    stop: async () => {
      const outcome = await service.stop();
      if (outcome.failed.length > 0) throw new Error(`serving stopped with failures: ${outcome.failed.map((failure) => failure.step).join(', ')}`);
    },
  };
}

export function spoolDir(dataDir: string): string {
  return join(dataDir, 'serving', 'spool');
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
