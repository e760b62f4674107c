import { Kafka, logLevel, type Admin, type LogEntry } from 'kafkajs';
import type { HostConfig } from '../host-config';
import type { Logger } from '@loopline/telemetry';
import { notConfiguredCheck } from '../readiness/readiness';
import type { OpenedDependency } from './dependency';

/**
 * A kafkajs client for the service, and a readiness check through an admin client. Timeouts are
 * short and retries off for the probe: readiness asks "does the cluster answer now?", and a probe
 * that retried for a minute would answer a question nobody asked any more (and pile up
 * reconnection attempts behind the next probe).
 */
export function openKafka(config: HostConfig, logger: Logger): OpenedDependency<Kafka> {
  if (!config.kafkaBrokers || config.kafkaBrokers.length === 0) {
    return { client: undefined, check: notConfiguredCheck('kafka', 'LOOPLINE_KAFKA_BROKERS') };
  }
  const clientId = `loopline-${config.service}`;
  const brokers = [...config.kafkaBrokers];
  // The service's client keeps kafkajs's retries: producers and consumers should ride out a
  // broker restart. Its log lines reach our logger from `warn` up.
  const kafka = new Kafka({ clientId, brokers, logLevel: logLevel.WARN, logCreator: () => (entry) => writeKafkaLog(logger, entry, 'as-is') });
  // The probe gets a client of its own that never retries: one failed connection is the answer.
  // Its failures are reported by readiness (and its transitions logged), so its own log lines
  // would only repeat them every few seconds: they go to debug.
  const probeClient = new Kafka({
    clientId: `${clientId}-readiness`,
    brokers,
    connectionTimeout: 1_000,
    requestTimeout: 2_000,
    retry: { retries: 0 },
    logLevel: logLevel.WARN,
    logCreator: () => (entry) => writeKafkaLog(logger, entry, 'debug'),
  });
  let connected: Admin | undefined;
  const probe = async (): Promise<string> => {
    const admin = connected ?? probeClient.admin({ retry: { retries: 0 } });
    try {
      if (!connected) await admin.connect();
      connected = admin;
      const cluster = await admin.describeCluster();
      return `${cluster.brokers.length} broker(s), controller ${cluster.controller ?? 'unknown'}`;
    } catch (error) {
      // Start from a clean client next time rather than reusing a half-open one.
      connected = undefined;
      await admin.disconnect().catch(() => undefined);
      throw error;
    }
  };
  return {
    client: kafka,
    check: { name: 'kafka', probe },
    close: { name: 'disconnect Kafka admin', run: async () => connected?.disconnect() },
  };
}

function writeKafkaLog(logger: Logger, entry: LogEntry, level: 'as-is' | 'debug'): void {
  const { message, ...fields } = entry.log;
  const payload = { kafkajs: entry.namespace, ...fields };
  if (level === 'debug') logger.debug(payload, message);
  else if (entry.level === logLevel.ERROR) logger.error(payload, message);
  else if (entry.level === logLevel.WARN) logger.warn(payload, message);
  else logger.debug(payload, message);
}
