/**
 * A relay in a process of its own, for crash tests: the spec SIGKILLs it at a chosen moment.
 * With HANG_AFTER_BATCHES=n, the n-th batch is published to Kafka, then the process announces
 * `published-unmarked <count>` on stdout and hangs before marking the rows: the window in which
 * a crash must cause duplicates, never a loss.
 */
import { Kafka, logLevel } from 'kafkajs';
import { Pool } from 'pg';
import { createOutboxProducer, KafkaOutboxPublisher } from '../src/outbox/kafka-outbox-publisher';
import type { PendingOutboxMessage } from '../src/outbox/outbox-message';
import type { OutboxPublisher } from '../src/outbox/outbox-publisher';
import { OutboxRelay } from '../src/outbox/outbox-relay';

async function main(): Promise<void> {
  const env = process.env;
  const pool = new Pool({ connectionString: env.RELAY_DATABASE_URL, max: 4 });
  const kafka = new Kafka({ clientId: 'relay-under-test', brokers: (env.RELAY_KAFKA_BROKERS ?? '').split(','), logLevel: logLevel.NOTHING });
  const producer = createOutboxProducer(kafka);
  await producer.connect();
  const kafkaPublisher = new KafkaOutboxPublisher(producer);
  const hangAfter = Number(env.HANG_AFTER_BATCHES ?? 0);
  let batches = 0;
  const publisher: OutboxPublisher = {
    isPoison: (error) => kafkaPublisher.isPoison(error),
    async publish(messages: readonly PendingOutboxMessage[]) {
      await kafkaPublisher.publish(messages);
      batches += 1;
      process.stdout.write(`published ${messages.length}\n`);
      if (batches === hangAfter) {
        process.stdout.write(`published-unmarked ${messages.length}\n`);
        await new Promise(() => undefined); // never marks: the parent kills us here
      }
    },
  };
  const relay = new OutboxRelay({ pool, publisher, batchSize: Number(env.RELAY_BATCH_SIZE ?? 100), pollIntervalMs: 20 });
  relay.start();
  process.stdout.write('relay-started\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
