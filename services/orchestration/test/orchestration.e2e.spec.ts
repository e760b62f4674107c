// Orchestration through its public surface, on real Postgres and Kafka: a pipeline of `command`
// steps runs end to end (REST start → RunTask on Kafka through the outbox → the worker runs the
// child processes → results on Kafka → the run succeeds), with logs, caching by content,
// lineage, validation errors with their place, gRPC and SSE watching.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunView } from '../src/application/run-view';
import { applyYaml, grpcClient, orchestrationEnv, rest, startOrchestration, startRun, unary, waitForEnd, type OrchestrationUnderTest } from './harness';

const fanOut = `
name: fan-out
params:
  count: { type: integer, default: 2 }
steps:
  - id: prepare
    kind: command
    command: ["sh", "-c", "echo preparing $LOOPLINE_INPUT_COUNT; echo '{\\"n\\": '$LOOPLINE_INPUT_COUNT'}' > $LOOPLINE_OUTPUTS"]
    inputs: { count: "\${{ params.count }}" }
    outputs: { n: integer }
  - id: left
    kind: command
    command: ["sh", "-c", "echo left; echo '{\\"side\\": \\"L\\"}' > $LOOPLINE_OUTPUTS"]
    inputs: { n: "\${{ steps.prepare.outputs.n }}" }
    outputs: [side]
  - id: right
    kind: command
    command: ["sh", "-c", "echo right >&2; echo '{\\"side\\": \\"R\\"}' > $LOOPLINE_OUTPUTS"]
    inputs: { n: "\${{ steps.prepare.outputs.n }}" }
    outputs: [side]
  - id: join
    kind: command
    command: ["sh", "-c", "echo joined $LOOPLINE_INPUT_A$LOOPLINE_INPUT_B"]
    inputs: { a: "\${{ steps.left.outputs.side }}", b: "\${{ steps.right.outputs.side }}" }
  - id: never
    kind: command
    when: params.count > 100
    dependsOn: [join]
    command: ["false"]
outputs:
  n: "\${{ steps.prepare.outputs.n }}"
`;

const cached = `
name: cached
params:
  datasetVersionId: { type: string, required: true }
steps:
  - id: features
    kind: command
    cache: true
    command: ["sh", "-c", "echo computing from $LOOPLINE_INPUT_DATASET_VERSION_ID; echo '{\\"trainingSetId\\": \\"ts-'$LOOPLINE_INPUT_DATASET_VERSION_ID'\\"}' > $LOOPLINE_OUTPUTS"]
    inputs: { datasetVersionId: "\${{ params.datasetVersionId }}" }
    outputs: { trainingSetId: string }
  - id: model
    kind: command
    command: ["sh", "-c", "echo '{\\"modelVersion\\": \\"flight-delay:7\\"}' > $LOOPLINE_OUTPUTS"]
    inputs: { trainingSetId: "\${{ steps.features.outputs.trainingSetId }}" }
    outputs: { modelVersion: string }
`;

const flaky = `
name: flaky
steps:
  - id: flaky
    kind: command
    retries: { limit: 2, backoff: 100ms }
    command: ["sh", "-c", "if [ \\"$LOOPLINE_ATTEMPT\\" -lt 2 ]; then echo failing attempt $LOOPLINE_ATTEMPT; exit 3; fi; echo ok on $LOOPLINE_ATTEMPT"]
  - id: after
    kind: command
    dependsOn: [flaky]
    command: ["true"]
`;

describe('Orchestration (e2e)', () => {
  let orchestration: OrchestrationUnderTest;

  before(async () => {
    orchestration = await startOrchestration(await orchestrationEnv());
  });

  after(async () => {
    await orchestration?.stop();
  });

  describe('pipelines', () => {
    it('applies a YAML definition as version 1, and an identical one changes nothing', async () => {
      const first = await applyYaml(orchestration.baseUrl, fanOut);
      assert.equal(first.status, 201, JSON.stringify(first.body));
      assert.equal((first.body.pipeline as { version: number }).version, 1);
      const again = await applyYaml(orchestration.baseUrl, fanOut);
      assert.equal(again.status, 200);
      assert.equal(again.body.changed, false);
    });

    it('refuses an invalid definition with every problem and its exact place', async () => {
      const response = await applyYaml(orchestration.baseUrl, fanOut.replace('steps.left.outputs.side', 'steps.left.outputs.sides').replace('kind: command\n    when', 'kind: comand\n    when'));
      assert.equal(response.status, 400);
      const problems = (response.body.details as { problems: { path: string; message: string }[] }).problems;
      assert.deepEqual(problems.map((problem) => problem.path).sort(), ['steps[3].inputs.a', 'steps[4].kind']);
      assert.match(problems.find((problem) => problem.path === 'steps[3].inputs.a')!.message, /no output "sides"/);
    });
  });

  describe('a pipeline of command steps', () => {
    let run: RunView;

    before(async () => {
      await applyYaml(orchestration.baseUrl, fanOut);
      const started = await startRun(orchestration.baseUrl, 'fan-out', { count: 3 });
      run = await waitForEnd(orchestration.baseUrl, started.runId);
    });

    it('runs REST → Kafka → worker → results to success, passing outputs between steps', () => {
      assert.equal(run.status, 'succeeded', JSON.stringify(run, null, 1));
      const status = Object.fromEntries(run.tasks.map((task) => [task.taskId, task.status]));
      assert.deepEqual(status, { prepare: 'succeeded', left: 'succeeded', right: 'succeeded', join: 'succeeded', never: 'skipped' });
      assert.deepEqual(run.tasks.find((task) => task.taskId === 'join')!.inputs, { a: 'L', b: 'R', command: ['sh', '-c', 'echo joined $LOOPLINE_INPUT_A$LOOPLINE_INPUT_B'], env: {} });
      assert.deepEqual(run.outputs, { n: 3 });
    });

    it('records every attempt with its times, duration and executor', () => {
      const attempt = run.tasks.find((task) => task.taskId === 'prepare')!.attempts[0]!;
      assert.equal(attempt.status, 'succeeded');
      assert.equal(attempt.executor, 'orchestration-worker');
      assert.ok(attempt.dispatchedAt && attempt.startedAt && attempt.endedAt);
      assert.ok(attempt.durationMs !== null && attempt.durationMs >= 0);
    });

    it("serves each task's captured stdout and stderr as its logs", async () => {
      const left = await rest<{ attempts: { attempt: number; logs: string }[] }>(orchestration.baseUrl, 'GET', `/v1/runs/${run.runId}/tasks/left/logs`);
      assert.equal(left.body.attempts[0]?.logs.trim(), 'left');
      const right = await rest<{ attempts: { logs: string }[] }>(orchestration.baseUrl, 'GET', `/v1/runs/${run.runId}/tasks/right/logs`);
      assert.equal(right.body.attempts[0]?.logs.trim(), 'right', 'stderr too');
    });

    it('answers over gRPC too', async () => {
      const client = grpcClient(orchestration.grpcAddress);
      try {
        const { run: viaGrpc } = await unary<{ run: { status: string; tasks: { taskId: string; stepKind: string }[] } }>(client, 'GetPipelineRun', { runId: run.runId });
        assert.equal(viaGrpc.status, 'PIPELINE_RUN_STATUS_SUCCEEDED');
        assert.equal(viaGrpc.tasks[0]?.stepKind, 'STEP_KIND_RUN_COMMAND');
      } finally {
        client.close();
      }
    });

    it('streams a finished run over SSE and ends the stream', async () => {
      const text = await (await fetch(`${orchestration.baseUrl}/v1/runs/${run.runId}/events`)).text();
      assert.match(text, /^event: run\nid: \d+\ndata: \{/);
      assert.match(text, /"status":"succeeded"/);
    });
  });

  it('retries a failing step with backoff, then succeeds', async () => {
    await applyYaml(orchestration.baseUrl, flaky);
    const run = await waitForEnd(orchestration.baseUrl, (await startRun(orchestration.baseUrl, 'flaky')).runId);
    assert.equal(run.status, 'succeeded');
    const attempts = run.tasks[0]!.attempts;
    assert.deepEqual(
      attempts.map((attempt) => attempt.status),
      ['failed', 'succeeded'],
    );
    assert.equal(attempts[0]!.error?.code, 'COMMAND_FAILED');
    assert.notEqual(attempts[0]!.idempotencyKey, attempts[1]!.idempotencyKey);
    const logs = await rest<{ attempts: { attempt: number; logs: string }[] }>(orchestration.baseUrl, 'GET', `/v1/runs/${run.runId}/tasks/flaky/logs`);
    assert.deepEqual(
      logs.body.attempts.map((entry) => entry.logs.trim()),
      ['failing attempt 1', 'ok on 2'],
    );
  });

  describe('caching by content', () => {
    it('reuses a step whose inputs and code are unchanged, and reruns it for a new data version', async () => {
      await applyYaml(orchestration.baseUrl, cached);
      const first = await waitForEnd(orchestration.baseUrl, (await startRun(orchestration.baseUrl, 'cached', { datasetVersionId: 'ds-1' })).runId);
      const same = await waitForEnd(orchestration.baseUrl, (await startRun(orchestration.baseUrl, 'cached', { datasetVersionId: 'ds-1' })).runId);
      const fresh = await waitForEnd(orchestration.baseUrl, (await startRun(orchestration.baseUrl, 'cached', { datasetVersionId: 'ds-2' })).runId);
      const features = (run: RunView) => run.tasks.find((task) => task.taskId === 'features')!;
      assert.deepEqual([first.status, same.status, fresh.status], ['succeeded', 'succeeded', 'succeeded']);
      assert.equal(features(first).cached, false);
      assert.equal(features(same).cached, true, 'same inputs → cached');
      assert.equal(features(same).attempts.length, 0, 'nothing was dispatched');
      assert.deepEqual(features(same).cachedFrom, { runId: first.runId, taskId: 'features' });
      assert.deepEqual(features(same).outputs, { trainingSetId: 'ts-ds-1' });
      assert.equal(features(fresh).cached, false, 'new data version → not cached');
      assert.deepEqual(features(fresh).outputs, { trainingSetId: 'ts-ds-2' });
    });

    it('answers lineage queries: a model version back to its data, a dataset forward to its models', async () => {
      const { status, body } = await rest<{ upstream: { artifactId: string; kind: string }[]; downstream: { artifactId: string }[]; tasks: { taskId: string; codeVersion: string }[] }>(
        orchestration.baseUrl,
        'GET',
        `/v1/lineage?artifact=${encodeURIComponent('ts-ds-2')}`,
      );
      assert.equal(status, 200, JSON.stringify(body));
      assert.deepEqual(body.upstream, [{ artifactId: 'ds-2', kind: 'dataset_version' }]);
      assert.deepEqual(
        body.downstream.map((artifact) => artifact.artifactId),
        ['flight-delay:7'],
      );
      const model = await rest<{ upstream: { artifactId: string }[]; tasks: { codeVersion: string }[] }>(orchestration.baseUrl, 'GET', `/v1/lineage?artifact=${encodeURIComponent('flight-delay:7')}`);
      assert.deepEqual(model.body.upstream.map((artifact) => artifact.artifactId).sort(), ['ds-1', 'ds-2', 'ts-ds-1', 'ts-ds-2']);
      assert.ok(model.body.tasks.every((task) => task.codeVersion === 'test-commit'));
      assert.equal((await rest(orchestration.baseUrl, 'GET', '/v1/lineage?artifact=unknown-artifact')).status, 404);
    });
  });

  it('cancels a running run and refuses to cancel it twice', async () => {
    await applyYaml(orchestration.baseUrl, 'name: slow\nsteps:\n  - id: wait\n    kind: command\n    command: ["sleep", "20"]\n');
    const started = await startRun(orchestration.baseUrl, 'slow');
    const cancelled = await rest<RunView>(orchestration.baseUrl, 'POST', `/v1/runs/${started.runId}/cancel`, { reason: 'test' });
    assert.equal(cancelled.status, 200);
    assert.equal(cancelled.body.status, 'cancelled');
    assert.equal((await rest(orchestration.baseUrl, 'POST', `/v1/runs/${started.runId}/cancel`, {})).status, 409);
  });
});
