// The standalone task worker: `node -r @swc-node/register services/orchestration/src/worker-main.ts`.
// Runs only orchestration's task worker (command, evaluate, register, promote, deploy steps),
// against the same database and Kafka as the service, so work scales out (or is isolated from
// the API) by starting more of these with LOOPLINE_ORCHESTRATION_WORKER=false on the service.
// Stops on SIGTERM/SIGINT after its running tasks were told to stop (their leases then expire
// and another worker redoes them).
import { hostname } from 'node:os';
import { Pool } from 'pg';
import { createKafkaClient } from '@loopline/messaging';
import { createLogger } from '@loopline/telemetry';
import { PostgresOrchestrationStorage } from './adapters/postgres/orchestration-storage';
import { consumerGroups } from './adapters/kafka/orchestration-background';
import { orchestrationExecutors } from './adapters/worker/executors';
import { TaskWorker } from './adapters/worker/task-worker';
import { loadConfig } from './config';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ service: 'orchestration-worker', level: config.logLevel });
  if (!config.postgresUrl || !config.kafkaBrokers) throw new Error('the worker needs LOOPLINE_POSTGRES_URL and LOOPLINE_KAFKA_BROKERS');
  const pool = new Pool({ connectionString: config.postgresUrl, max: 5 });
  const storage = new PostgresOrchestrationStorage(pool);
  await storage.ready();
  const kafka = createKafkaClient({ brokers: config.kafkaBrokers, clientId: 'loopline-orchestration-worker' }, logger);
  const settings = config.orchestration;
  // The worker reads the runs' state straight from the service's read model.
  const runs = {
    isAwaiting: async (runId: string, taskId: string, key: string) => {
      const row = await storage.getRunView(runId);
      const task = row?.view.tasks.find((candidate) => candidate.taskId === taskId);
      return row?.view.status === 'running' && task?.status === 'running' && task.attempts.at(-1)?.idempotencyKey === key;
    },
  };
  const worker = new TaskWorker(kafka, storage, runs, orchestrationExecutors({ registryUrl: settings.registryUrl, servingUrl: settings.servingUrl, monitoringUrl: settings.monitoringUrl }), logger, {
    groupId: consumerGroups(settings.consumerGroupPrefix).worker,
    leaseMs: settings.workerLeaseMs,
    concurrency: settings.workerConcurrency,
    owner: `${hostname()}:${process.pid}:worker`,
  });
  await worker.start();
  logger.info({ groupId: consumerGroups(settings.consumerGroupPrefix).worker }, 'orchestration worker running');
  const stop = async (signal: string) => {
    logger.info({ signal }, 'stopping the worker');
    await worker.stop();
    await pool.end();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
