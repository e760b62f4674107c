// A freshly formatted Kafka broker answers requests before it can coordinate consumer groups: its
// offsets topic is created on the first group request and loaded afterwards. A consumer that asks
// in that window gets "Failed to find group coordinator", which kafkajs does not retry: the service
// would run on without consuming (our services all start at once, right after the broker). So the
// demo brings Kafka up first and waits until a consumer group can be coordinated.
import { serviceNames, type PlatformConfig } from '@loopline/config';
import { startInfrastructure } from '@loopline/infra';
import { Kafka, logLevel } from 'kafkajs';
import { serviceDatabase } from '../service-processes';

export async function startInfrastructureWithGroups(config: PlatformConfig, log: (line: string) => void, timeoutMs = 180_000): Promise<void> {
  const infra = await startInfrastructure({
    dataDir: config.dataDir,
    cacheDir: config.cacheDir,
    host: config.host,
    kafka: { port: config.kafkaPort, controllerPort: config.kafkaControllerPort, heapMb: config.kafkaHeapMb },
    postgres: { port: config.postgresPort },
    databases: serviceNames.map(serviceDatabase),
    log,
  });
  const kafka = new Kafka({ clientId: 'loopline-demo', brokers: infra.kafkaBrokers, logLevel: logLevel.NOTHING, retry: { retries: 2 } });
  const admin = kafka.admin();
  await admin.connect();
  const started = Date.now();
  try {
    for (;;) {
      try {
        // Finding the coordinator of a group is what the services' consumers do first.
        await admin.describeGroups(['loopline-demo-readiness']);
        if (Date.now() - started > 1_000) log(`kafka: consumer groups coordinated after ${((Date.now() - started) / 1000).toFixed(1)} s`);
        return;
      } catch (error) {
        if (Date.now() - started > timeoutMs) throw new Error(`Kafka cannot coordinate consumer groups after ${timeoutMs / 1000} s: ${error instanceof Error ? error.message : String(error)}`);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  } finally {
    await admin.disconnect();
  }
}
