import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { freePort, testInfra, uniqueName } from '@loopline/testing';
import { InfrastructureError } from './errors';
import { infrastructureLayout } from './layout';
import { startInfrastructure, stopInfrastructure, type InfrastructureOptions } from './platform';
import { isOurProcessAlive, processGroupMembers, readPidRecord, type PidRecord } from './processes';

// Real processes on ports of their own, beside the run's shared infrastructure. The ports are
// chosen free by the kernel: a fixed port in the ephemeral range may be some client's local port.
const ports = { kafka: 0, controller: 0, postgres: 0 };

function options(dataDir: string): InfrastructureOptions {
  return {
    dataDir,
    kafka: { port: ports.kafka, controllerPort: ports.controller, heapMb: 256, defaultPartitions: 1 },
    postgres: { port: ports.postgres },
    databases: ['loopline_registry'],
  };
}

function recordsOf(dataDir: string): PidRecord[] {
  const layout = infrastructureLayout(dataDir);
  return ['kafka', 'postgres'].map((name) => {
    const record = readPidRecord(layout.pidFile(name));
    assert.ok(record, `${name} has a pid file`);
    return record;
  });
}

async function createTopic(brokers: string[], topic: string): Promise<void> {
  const admin = new Kafka({ clientId: 'infra-test', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

async function listTopics(brokers: string[]): Promise<string[]> {
  const admin = new Kafka({ clientId: 'infra-test', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return await admin.listTopics();
  } finally {
    await admin.disconnect();
  }
}

async function query(url: string, sql: string): Promise<unknown[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('local infrastructure', () => {
  const dataDir = join(testInfra().dataDir, uniqueName('infra'));

  before(async () => {
    ports.kafka = await freePort();
    ports.controller = await freePort();
    ports.postgres = await freePort();
  });

  after(async () => {
    await stopInfrastructure(dataDir);
  });

  describe('when started, stopped and started again', () => {
    it('runs real, healthy Kafka and PostgreSQL, reuses them on a second start and leaves no process after stop', async () => {
      const first = await startInfrastructure(options(dataDir));
      assert.equal(first.components.kafka.reused, false);
      assert.equal(first.components.postgres.reused, false);
      const topic = uniqueName('durable');
      await createTopic(first.kafkaBrokers, topic);
      await query(first.postgresUrl('loopline_registry'), 'CREATE TABLE kept (id int PRIMARY KEY); INSERT INTO kept VALUES (42)');

      const second = await startInfrastructure(options(dataDir));
      assert.equal(second.components.kafka.reused, true);
      assert.equal(second.components.postgres.reused, true);
      assert.equal(second.components.kafka.record.pid, first.components.kafka.record.pid);

      const records = recordsOf(dataDir);
      await stopInfrastructure(dataDir);
      for (const record of records) {
        assert.equal(isOurProcessAlive(record), false, `${record.name} exited`);
        assert.deepEqual(processGroupMembers(record.pid), [], `${record.name} left no child process`);
      }

      const third = await startInfrastructure(options(dataDir));
      assert.equal(third.components.kafka.reused, false);
      assert.ok((await listTopics(third.kafkaBrokers)).includes(topic), 'the topic survived the restart');
      assert.deepEqual(await query(third.postgresUrl('loopline_registry'), 'SELECT id FROM kept'), [{ id: 42 }]);
    });
  });

  describe('when the processes crash', () => {
    it('recovers on the next start, keeping committed data', async () => {
      const running = await startInfrastructure(options(dataDir));
      await query(running.postgresUrl('loopline_registry'), 'CREATE TABLE IF NOT EXISTS crash (id int); INSERT INTO crash VALUES (7)');
      const records = recordsOf(dataDir);
      for (const record of records) process.kill(-record.pid, 'SIGKILL');
      for (const record of records) {
        while (processGroupMembers(record.pid).length > 0) await new Promise((resolve) => setTimeout(resolve, 50));
      }

      const recovered = await startInfrastructure(options(dataDir));
      assert.equal(recovered.components.kafka.reused, false);
      assert.equal(recovered.components.postgres.reused, false);
      assert.deepEqual(await query(recovered.postgresUrl('loopline_registry'), 'SELECT id FROM crash'), [{ id: 7 }]);
      await createTopic(recovered.kafkaBrokers, uniqueName('after_crash'));
    });
  });

  describe('when a port is taken by another program', () => {
    let blocker: ReturnType<typeof createServer>;
    before(async () => {
      await stopInfrastructure(dataDir);
      blocker = createServer();
      await new Promise<void>((resolve) => blocker.listen(ports.postgres, '127.0.0.1', resolve));
    });
    after(() => new Promise<void>((resolve) => blocker.close(() => resolve())));

    it('fails naming the port and the setting that changes it', async () => {
      await assert.rejects(startInfrastructure(options(dataDir)), (error: unknown) => {
        assert.ok(error instanceof InfrastructureError);
        assert.equal(error.code, 'PORT_IN_USE');
        assert.ok(error.message.includes(`127.0.0.1:${ports.postgres} is already in use`), error.message);
        assert.match(error.message, /LOOPLINE_POSTGRES_PORT/);
        return true;
      });
    });
  });
});
