import { Kafka, type LogEntry, logLevel, type logCreator } from 'kafkajs';
import type { Logger } from 'pino';

export interface KafkaClientConfig {
  readonly brokers: readonly string[];
  /** Shows up in broker logs and quotas; use the service name. */
  readonly clientId: string;
  /** TCP connect budget per broker. kafkajs' 1 s default trips on a busy CI host. */
  readonly connectionTimeoutMs?: number;
  /** Budget of one request; enforced client-side so a silent broker cannot hang a send forever. */
  readonly requestTimeoutMs?: number;
  /** kafkajs' own retries of failed requests (metadata, produce, commit…), before an error surfaces. */
  readonly retry?: { readonly initialRetryTimeMs?: number; readonly maxRetryTimeMs?: number; readonly retries?: number };
}

/**
 * The kafkajs client every producer, consumer and admin of a service is made from. Its logs go to
 * `logger` at warn and above: kafkajs logs every join, fetch and commit at info, which would drown
 * the service's own lines; warnings (rebalances, retries) and errors (crashes) are what matter.
 */
export function createKafkaClient(config: KafkaClientConfig, logger: Logger): Kafka {
  return new Kafka({
    brokers: [...config.brokers],
    clientId: config.clientId,
    connectionTimeout: config.connectionTimeoutMs ?? 3_000,
    requestTimeout: config.requestTimeoutMs ?? 30_000,
    enforceRequestTimeout: true,
    retry: {
      initialRetryTime: config.retry?.initialRetryTimeMs ?? 300,
      maxRetryTime: config.retry?.maxRetryTimeMs ?? 30_000,
      retries: config.retry?.retries ?? 8,
    },
    logLevel: logLevel.WARN,
    logCreator: pinoLogCreator(logger.child({ component: 'kafkajs' })),
  });
}

/** Maps kafkajs log entries onto pino levels, keeping kafkajs' structured fields. */
export function pinoLogCreator(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _timestamp, ...fields } = log;
      const line = { namespace, ...fields };
      switch (level) {
        case logLevel.ERROR:
          logger.error(line, message);
          return;
        case logLevel.WARN:
          logger.warn(line, message);
          return;
        case logLevel.INFO:
          logger.info(line, message);
          return;
        case logLevel.DEBUG:
          logger.debug(line, message);
          return;
        case logLevel.NOTHING:
          return;
        default: {
          const unreachable: never = level;
          logger.warn(line, `${message} (unknown kafkajs level ${String(unreachable)})`);
        }
      }
    };
}
