import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import type { PredictionRecord } from './inference-service';
import { PredictionLog, type LogMessage, type PredictionPublisher, type PredictionSpool, type SpoolRecord } from './prediction-log';

/** The topic as a list, a broker that can be down, and a broker that appends but loses the acknowledgement. */
class FakeTopic implements PredictionPublisher {
  readonly records: string[] = [];
  mode: 'up' | 'down' | 'ack-lost' = 'up';
  searches = 0;

  encode(prediction: PredictionRecord): LogMessage {
    return { id: prediction.predictionId, key: prediction.modelName, value: Buffer.from(prediction.predictionId), headers: {}, timestamp: '0' };
  }

  async publish(messages: readonly LogMessage[]): Promise<void> {
    if (this.mode === 'down') throw new Error('broker unreachable');
    this.records.push(...messages.map((message) => message.id));
    if (this.mode === 'ack-lost') throw new Error('request timed out');
  }

  async findPublished(ids: ReadonlySet<string>): Promise<Set<string>> {
    if (this.mode === 'down') throw new Error('broker unreachable');
    this.searches++;
    return new Set(this.records.filter((id) => ids.has(id)));
  }
}

class MemorySpool implements PredictionSpool {
  readonly records: SpoolRecord[] = [];
  get isEmpty(): boolean {
    return this.records.length === 0;
  }
  get sizeBytes(): number {
    return this.records.length;
  }
  async append(record: SpoolRecord): Promise<boolean> {
    this.records.push(record);
    return true;
  }
  async head(): Promise<SpoolRecord | undefined> {
    return this.records[0];
  }
  async ack(): Promise<void> {
    this.records.shift();
  }
  async close(): Promise<void> {}
}

function prediction(id: number): PredictionRecord {
  return { predictionId: `p${id}`, requestId: '', modelName: 'm', modelVersion: 1, alias: 'champion', role: 'primary', inputs: [], outputs: [], entityKeys: {}, latencyMs: 1, predictedAt: new Date() };
}

function makeLog(topic: FakeTopic, spool: MemorySpool) {
  return new PredictionLog({
    publisher: topic,
    spool,
    logger: pino({ level: 'silent' }),
    metrics: { published: () => undefined, spooled: () => undefined, replayed: () => undefined, dropped: () => undefined },
    batchSize: 10,
    flushIntervalMs: 5,
    retryIntervalMs: 20,
    sendTimeoutMs: 500,
    spoolHeadInDoubt: false,
    now: Date.now,
  });
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('PredictionLog', () => {
  describe('while Kafka acknowledges', () => {
    it('sends every prediction once, in order, without touching the spool', async () => {
      const topic = new FakeTopic();
      const spool = new MemorySpool();
      const log = makeLog(topic, spool);
      log.start();
      for (let id = 0; id < 35; id++) log.record(prediction(id));
      await until(() => topic.records.length === 35, 'delivery');
      await log.stop();
      assert.deepEqual(topic.records, Array.from({ length: 35 }, (_, id) => `p${id}`));
      assert.equal(topic.searches, 0);
    });
  });

  describe('when Kafka is down for a while', () => {
    it('spools, then replays in order once Kafka is back: none lost, none twice', async () => {
      const topic = new FakeTopic();
      const spool = new MemorySpool();
      const log = makeLog(topic, spool);
      log.start();
      for (let id = 0; id < 10; id++) log.record(prediction(id));
      await until(() => topic.records.length === 10, 'first batch');
      topic.mode = 'down';
      for (let id = 10; id < 60; id++) log.record(prediction(id));
      await until(() => !spool.isEmpty && log.backlog === 0, 'spooling');
      topic.mode = 'up';
      for (let id = 60; id < 70; id++) log.record(prediction(id));
      await until(() => topic.records.length === 70 && spool.isEmpty, 'replay');
      await log.stop();
      assert.deepEqual(topic.records, Array.from({ length: 70 }, (_, id) => `p${id}`));
    });
  });

  describe('when a batch reached Kafka but its acknowledgement was lost', () => {
    it('finds the batch on the topic before sending it again, so nothing is written twice', async () => {
      const topic = new FakeTopic();
      const spool = new MemorySpool();
      const log = makeLog(topic, spool);
      log.start();
      topic.mode = 'ack-lost';
      for (let id = 0; id < 10; id++) log.record(prediction(id));
      // The send "failed": the batch went to the spool, in doubt; the search found it on the topic.
      await until(() => topic.searches >= 1 && spool.isEmpty, 'the in-doubt batch reconciled');
      topic.mode = 'up';
      for (let id = 10; id < 20; id++) log.record(prediction(id));
      await until(() => spool.isEmpty && topic.records.length >= 20, 'replay');
      await log.stop();
      assert.deepEqual(topic.records, Array.from({ length: 20 }, (_, id) => `p${id}`));
      assert.ok(topic.searches >= 1);
    });
  });

  describe('when the service stops while Kafka is down', () => {
    it('leaves every pending prediction in the spool', async () => {
      const topic = new FakeTopic();
      topic.mode = 'down';
      const spool = new MemorySpool();
      const log = makeLog(topic, spool);
      log.start();
      for (let id = 0; id < 25; id++) log.record(prediction(id));
      await log.stop();
      assert.equal(spool.records.flatMap((record) => record.messages).length, 25);
      assert.deepEqual(topic.records, []);
    });
  });
});
