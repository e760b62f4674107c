import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeEvent, isEvent, PredictionLoggedSchema } from '@loopline/contracts';
import { startInfrastructure, stopInfrastructure } from '@loopline/infra';
import { eventually, freePort, testInfra, uniqueName } from '@loopline/testing';
import { Kafka, logLevel } from 'kafkajs';
import { FakeRegistry } from './fake-registry';
import { call, postJson } from './http-client';
import { markerModel } from './onnx-models';
import { spoolDir, startServing, type ServingUnderTest } from './serving-harness';

// Real parts: a Kafka broker of this test's own (real KRaft broker, stopped and started again
// mid-test: the run's shared broker cannot be stopped), serving on real ports with its on-disk
// spool, ONNX Runtime. The registry is the stand-in HTTP server.

describe('Prediction log across a Kafka outage', () => {
  const shared = testInfra();
  const infraDir = join(shared.dataDir, uniqueName('outage-infra'));
  const model = uniqueName('outage');
  const log = (line: string) => process.env.LOOPLINE_TEST_LOG_LEVEL === 'debug' && console.log(`[outage-infra] ${line}`);
  let ports: { kafka: number; controller: number; postgres: number };
  let brokers: string[];
  let registry: FakeRegistry;
  let serving: ServingUnderTest;
  let dataDir: string;

  const infrastructure = () => startInfrastructure({ dataDir: infraDir, kafka: { port: ports.kafka, controllerPort: ports.controller, heapMb: 256 }, postgres: { port: ports.postgres }, log });

  before(async () => {
    ports = { kafka: await freePort(), controller: await freePort(), postgres: await freePort() };
    brokers = (await infrastructure()).kafkaBrokers;
    registry = await new FakeRegistry().start();
    await registry.addVersion(model, 1, markerModel(1));
    registry.setAliasQuietly(model, 'champion', 1);
    dataDir = join(shared.dataDir, uniqueName('serving'));
    serving = await startServing({
      registryUrl: registry.url,
      kafkaBrokers: brokers,
      dataDir,
      models: [model],
      env: { LOOPLINE_SERVING_LOG_FLUSH_MS: '10', LOOPLINE_SERVING_LOG_RETRY_MS: '250', LOOPLINE_SERVING_LOG_SEND_TIMEOUT_MS: '1000', LOOPLINE_SERVING_LOG_BATCH_SIZE: '100' },
    });
    await eventually(async () => (await call(`${serving.httpUrl}/v2/health/ready`)).status === 200, { timeoutMs: 60_000, what: 'serving ready' });
  });

  after(async () => {
    await serving?.stop();
    await registry?.stop();
    await stopInfrastructure(infraDir, log);
  });

  it('keeps answering while Kafka is down, spools, replays in order: every prediction exactly once', async () => {
    const answered: string[] = [];
    const failures: string[] = [];
    let running = true;
    // One request at a time, so the order of answers is the order predictions were recorded in.
    const traffic = (async () => {
      for (let index = 0; running; index++) {
        const answer = await postJson(`${serving.httpUrl}/v2/models/${model}/infer`, { inputs: [{ name: 'features', shape: [1, 2], datatype: 'FP32', data: [index, 1] }] });
        if (answer.status === 200) answered.push(String(answer.json.id));
        else failures.push(`${answer.status} ${JSON.stringify(answer.json)}`);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();

    // Phases end on counts as well as time, so a busy host slows the test down but does not weaken it.
    const atLeast = (count: number, minimumMs: number) => {
      const started = Date.now();
      return eventually(() => answered.length >= count && Date.now() - started >= minimumMs, { timeoutMs: 60_000, what: `${count} predictions answered` });
    };
    await atLeast(100, 1_000);
    await stopInfrastructure(infraDir, log);
    const stoppedAt = answered.length;
    await atLeast(stoppedAt + 100, 2_000);
    const spool = join(spoolDir(dataDir), 'predictions.spool');
    assert.ok(existsSync(spool) && statSync(spool).size > 0, 'predictions made while Kafka was down are in the spool');
    await infrastructure();
    await atLeast(answered.length + 100, 1_000);
    running = false;
    await traffic;

    assert.deepEqual(failures, [], 'serving answered every request, Kafka or not');

    const kafka = new Kafka({ clientId: 'outage-check', brokers, logLevel: logLevel.NOTHING });
    const seen: string[] = [];
    const consumer = kafka.consumer({ groupId: uniqueName('outage-check'), maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'loopline.serving.predictions.v1', fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const event = decodeEvent(message, 'loopline.serving.predictions.v1');
        if (isEvent(event, PredictionLoggedSchema) && event.message.modelName === model) seen.push(event.message.predictionId);
      },
    });
    try {
      const expected = new Set(answered);
      await eventually(
        () => {
          const logged = new Set(seen);
          const missing = answered.filter((id) => !logged.has(id)).length;
          if (missing > 0) throw new Error(`${missing} of ${answered.length} predictions not on the topic yet`);
          return true;
        },
        { timeoutMs: 60_000, what: 'every prediction on the topic' },
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
      const counts = new Map<string, number>();
      for (const id of seen) counts.set(id, (counts.get(id) ?? 0) + 1);
      assert.deepEqual([...counts].filter(([, count]) => count > 1), [], 'no prediction logged twice');
      assert.deepEqual(seen.filter((id) => !expected.has(id)), [], 'nothing logged that was not answered');
      assert.deepEqual(seen, answered, 'logged in the order the predictions were made');
      await eventually(() => statSync(spool).size === 0, { what: 'the spool drained' });
    } finally {
      await consumer.disconnect();
    }
  });
});
