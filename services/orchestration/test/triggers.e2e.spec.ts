// Event triggers on real Kafka: a Loopline event matching a trigger's filter starts exactly one
// run (delivered twice, it still starts one), and the concurrency policies skip, queue and
// replace behave against a run that is still active.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Kafka } from 'kafkajs';
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { DatasetVersionCreatedSchema } from '@loopline/contracts';
import { contractMessage, createEventProducer, createKafkaClient, type EventProducer } from '@loopline/messaging';
import { createLogger } from '@loopline/telemetry';
import { eventually, testInfra, uniqueName } from '@loopline/testing';
import type { RunView } from '../src/application/run-view';
import { applyYaml, orchestrationEnv, rest, startOrchestration, waitForEnd, type OrchestrationUnderTest } from './harness';

const topic = 'loopline.ingestion.dataset-versions.v1';

async function until<T>(probe: () => Promise<T | undefined>, options: { timeoutMs?: number; what: string }): Promise<T> {
  return (await eventually(probe, options))!;
}

function pipelineFor(name: string, source: string, policy: string, seconds: number): string {
  return `
name: ${name}
params:
  dataset: { type: string, default: "" }
triggers:
  - name: new-data
    event: DatasetVersionCreated
    where: sourceName == "${source}" && rowCount > 0
    concurrency: ${policy}
    params: { dataset: "\${{ event.datasetVersionId }}" }
steps:
  - id: work
    kind: command
    command: ["sh", "-c", "sleep ${seconds}; echo trained on $LOOPLINE_INPUT_DATASET"]
    inputs: { dataset: "\${{ params.dataset }}" }
`;
}

describe('Event triggers (e2e)', () => {
  let orchestration: OrchestrationUnderTest;
  let kafka: Kafka;
  let producer: EventProducer;

  before(async () => {
    orchestration = await startOrchestration(await orchestrationEnv());
    const logger = createLogger({ service: 'trigger-test', level: 'warn' });
    kafka = createKafkaClient({ brokers: testInfra().kafkaBrokers, clientId: 'trigger-test' }, logger);
    producer = createEventProducer(kafka, { logger });
    await producer.connect();
  });

  after(async () => {
    await producer?.disconnect();
    await orchestration?.stop();
  });

  async function apply(yaml: string): Promise<void> {
    const response = await applyYaml(orchestration.baseUrl, yaml);
    assert.equal(response.status, 201, JSON.stringify(response.body));
    await eventually(() => orchestration.background.listeningTo.includes(topic), { timeoutMs: 30_000, what: 'trigger consumer listening' });
  }

  async function publish(source: string, id = randomUUID(), rowCount = 10n): Promise<string> {
    const message = create(DatasetVersionCreatedSchema, { sourceName: source, datasetVersionId: `dv-${id.slice(0, 8)}`, rowCount, createdAt: timestampFromDate(new Date()) });
    await producer.publish([contractMessage({ topic, key: source, id, source: '/loopline/ingestion', time: new Date(), message })]);
    return id;
  }

  const runsOf = async (pipeline: string) => (await rest<{ runs: RunView[] }>(orchestration.baseUrl, 'GET', `/v1/runs?pipeline=${pipeline}`)).body.runs;
  const decisionsOf = async (pipeline: string) =>
    (await rest<{ decisions: { decision: string; eventId: string; reason?: string; runId?: string }[] }>(orchestration.baseUrl, 'GET', `/v1/pipelines/${pipeline}/trigger-decisions`)).body.decisions;

  it('starts exactly one run per matching event, even when the event is delivered twice; ignores non-matching events', async () => {
    const name = uniqueName('once').replace(/_/g, '-');
    const source = uniqueName('src');
    await apply(pipelineFor(name, source, 'allow', 0));
    const id = randomUUID();
    await publish(source, id);
    await publish(source, id); // a redelivery: same CloudEvents id
    await publish(`${source}-other`);
    await publish(source, randomUUID(), 0n); // filter: rowCount > 0
    const runs = await until(async () => {
      const found = await runsOf(name);
      return found.length === 1 && found[0]!.status === 'succeeded' ? found : undefined;
    }, { timeoutMs: 20_000, what: 'one run' });
    assert.equal(runs[0]!.trigger.kind, 'event');
    assert.equal(runs[0]!.trigger.eventId, id);
    assert.match(JSON.stringify(runs[0]!.params), /"dataset":"dv-/);
    // Give a second start every chance to appear: the decisions log has one entry per event id.
    const decisions = await until(async () => ((await decisionsOf(name)).length >= 1 ? decisionsOf(name) : undefined), { what: 'decisions' });
    assert.deepEqual(
      decisions.map((decision) => [decision.decision, decision.eventId]),
      [['started', id]],
    );
    assert.equal((await runsOf(name)).length, 1);
  });

  it('skip: ignores an event while a run is active', async () => {
    const name = uniqueName('skip').replace(/_/g, '-');
    const source = uniqueName('src');
    await apply(pipelineFor(name, source, 'skip', 2));
    await publish(source);
    await eventually(async () => (await runsOf(name)).some((run) => run.status === 'running'), { what: 'first run running' });
    const second = await publish(source);
    const decisions = await until(async () => {
      const found = await decisionsOf(name);
      return found.some((decision) => decision.eventId === second) ? found : undefined;
    }, { what: 'second decision' });
    assert.equal(decisions[0]!.decision, 'skipped');
    assert.equal(decisions[0]!.reason, 'active_run');
    assert.equal((await runsOf(name)).length, 1);
  });

  it('queue: queues the run behind the active one, then runs it', async () => {
    const name = uniqueName('queue').replace(/_/g, '-');
    const source = uniqueName('src');
    await apply(pipelineFor(name, source, 'queue', 1));
    await publish(source);
    await eventually(async () => (await runsOf(name)).some((run) => run.status === 'running'), { what: 'first run running' });
    await publish(source);
    const queued = await until(async () => (await runsOf(name)).find((run) => run.status === 'queued'), { what: 'second run queued' });
    const done = await waitForEnd(orchestration.baseUrl, queued.runId, 20_000);
    assert.equal(done.status, 'succeeded');
    const runs = await runsOf(name);
    const first = runs.find((run) => run.runId !== queued.runId)!;
    assert.equal(first.status, 'succeeded');
    assert.ok(Date.parse(done.startedAt!) >= Date.parse(first.endedAt!), 'the queued run started after the first ended');
  });

  it('replace: cancels the active run and starts the new one', async () => {
    const name = uniqueName('replace').replace(/_/g, '-');
    const source = uniqueName('src');
    await apply(pipelineFor(name, source, 'replace', 1));
    await publish(source);
    const first = await until(async () => (await runsOf(name)).find((run) => run.status === 'running'), { what: 'first run running' });
    await publish(source);
    const cancelled = await waitForEnd(orchestration.baseUrl, first.runId);
    assert.equal(cancelled.status, 'cancelled');
    assert.match(cancelled.cancelReason ?? '', /replaced by run/);
    const second = (await runsOf(name)).find((run) => run.runId !== first.runId)!;
    assert.equal((await waitForEnd(orchestration.baseUrl, second.runId)).status, 'succeeded');
  });
});
