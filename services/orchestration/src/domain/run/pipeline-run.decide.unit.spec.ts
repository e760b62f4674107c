import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IllegalStateError } from '@loopline/errors';
import { commandStep, planOf } from '../../../test/builders';
import type { Json, PipelineRunEvent, PipelineRunState, RunPlan } from './pipeline-run';
import { evolve, initialState, nextWakeup } from './pipeline-run';
import { decide, type PipelineRunCommand } from './pipeline-run.decide';

const t0 = '2026-03-01T10:00:00.000Z';
const at = (seconds: number) => new Date(Date.parse(t0) + seconds * 1000).toISOString();
const meta = (seconds = 0) => ({ actor: 'user:test', at: at(seconds) });

/** A run under test: the state so far and every event decided. */
class RunUnderTest {
  state: PipelineRunState = initialState();
  readonly history: PipelineRunEvent[] = [];

  constructor(plan: RunPlan) {
    this.act({ type: 'CreateRun', data: { runId: 'run-1', plan, queue: false }, metadata: meta() });
  }

  act(command: PipelineRunCommand): PipelineRunEvent[] {
    const events = decide(command, this.state);
    this.history.push(...events);
    this.state = events.reduce(evolve, this.state);
    return events;
  }

  complete(taskId: string, outputs: Json = {}, seconds = 1, key = this.state.tasks[taskId]!.idempotencyKey!): PipelineRunEvent[] {
    const task = this.state.tasks[taskId]!;
    return this.act({
      type: 'RecordTaskResult',
      data: { taskId, attempt: task.attempt, idempotencyKey: key, executor: 'test', startedAt: at(seconds - 0.5), endedAt: at(seconds), outcome: { status: 'completed', outputs, logsUri: '' } },
      metadata: meta(seconds),
    });
  }

  fail(taskId: string, retryable: boolean, seconds = 1): PipelineRunEvent[] {
    const task = this.state.tasks[taskId]!;
    return this.act({
      type: 'RecordTaskResult',
      data: {
        taskId,
        attempt: task.attempt,
        idempotencyKey: task.idempotencyKey!,
        executor: 'test',
        startedAt: null,
        endedAt: at(seconds),
        outcome: { status: 'failed', error: { code: 'BOOM', message: 'boom', retryable, logsUri: '' } },
      },
      metadata: meta(seconds),
    });
  }

  tick(seconds: number): PipelineRunEvent[] {
    return this.act({ type: 'Tick', data: {}, metadata: meta(seconds) });
  }

  status(taskId: string): string {
    return this.state.tasks[taskId]!.status;
  }

  dispatched(events: readonly PipelineRunEvent[]): string[] {
    return events.flatMap((event) => (event.type === 'TaskDispatched' ? [event.data.taskId] : []));
  }
}

const pipeline = (steps: unknown[], extra: Record<string, unknown> = {}) => ({ name: 'dag', steps, ...extra });

describe('PipelineRun', () => {
  describe('fan-out and fan-in', () => {
    it('runs a, then b and c together, then d with both outputs, then succeeds', () => {
      const run = new RunUnderTest(
        planOf(
          pipeline(
            [
              commandStep('a', { outputs: { n: 'integer' } }),
              commandStep('b', { inputs: { x: '${{ steps.a.outputs.n }}' }, outputs: ['v'] }),
              commandStep('c', { inputs: { x: '${{ steps.a.outputs.n }}' }, outputs: ['v'] }),
              commandStep('d', { inputs: { fromB: '${{ steps.b.outputs.v }}', fromC: 'c=${{ steps.c.outputs.v }}' } }),
            ],
            { outputs: { total: '${{ steps.b.outputs.v }}' } },
          ),
        ),
      );
      assert.deepEqual(run.dispatched(run.history), ['a']);
      assert.deepEqual(run.dispatched(run.complete('a', { n: 2 })), ['b', 'c']);
      assert.deepEqual(run.state.tasks.b!.inputs, { x: 2, command: ['echo', 'b'], env: {} });
      assert.deepEqual(run.dispatched(run.complete('b', { v: 'B' }, 2)), [], 'd waits for c');
      const events = run.complete('c', { v: 'C' }, 3);
      assert.deepEqual(run.dispatched(events), ['d']);
      assert.deepEqual(run.state.tasks.d!.inputs, { fromB: 'B', fromC: 'c=C', command: ['echo', 'd'], env: {} });
      const done = run.complete('d', {}, 4);
      assert.equal(done.at(-1)?.type, 'PipelineRunSucceeded');
      assert.equal(run.state.status, 'succeeded');
      assert.deepEqual(run.state.outputs, { total: 'B' });
    });
  });

  describe('when a task fails for good', () => {
    it('skips its descendants, dispatches nothing more and fails the run naming the task', () => {
      const run = new RunUnderTest(planOf(pipeline([commandStep('a'), commandStep('b', { dependsOn: ['a'] }), commandStep('c', { dependsOn: ['b'] }), commandStep('e', { dependsOn: ['a'] })])));
      run.complete('a');
      assert.deepEqual([run.status('b'), run.status('e')], ['running', 'running']);
      const events = run.fail('b', false, 2);
      assert.deepEqual(
        events.map((event) => event.type),
        ['TaskAttemptFailed', 'TaskSkipped', 'PipelineRunFailed'],
      );
      assert.equal(run.status('c'), 'skipped');
      assert.equal(run.state.tasks.c!.skipReason, 'upstream_failed');
      assert.equal(run.state.status, 'failed');
      assert.equal(run.state.failedTaskId, 'b');
      assert.equal(run.status('e'), 'cancelled', 'the running sibling is abandoned');
      assert.deepEqual(run.complete('e', {}, 3), [], 'its late result is ignored');
    });
  });

  describe('retries', () => {
    it('retries a retryable failure after an exponential backoff with a new key, then succeeds', () => {
      const run = new RunUnderTest(planOf(pipeline([commandStep('a', { retries: { limit: 2, backoff: '1s', factor: 2 } })])));
      const firstKey = run.state.tasks.a!.idempotencyKey;
      const failed = run.fail('a', true, 1);
      assert.equal(failed[0]?.type === 'TaskAttemptFailed' && failed[0].data.retryAt, at(2));
      assert.equal(nextWakeup(run.state), at(2));
      assert.deepEqual(run.tick(1.5), [], 'not before the backoff');
      assert.deepEqual(run.dispatched(run.tick(2)), ['a']);
      assert.equal(run.state.tasks.a!.attempt, 2);
      assert.notEqual(run.state.tasks.a!.idempotencyKey, firstKey, 'a reported failure means a new effect');
      const second = run.fail('a', true, 3);
      assert.equal(second[0]?.type === 'TaskAttemptFailed' && second[0].data.retryAt, at(5), 'backoff doubles');
      run.tick(5);
      run.complete('a', {}, 6);
      assert.equal(run.state.status, 'succeeded');
      assert.deepEqual(
        run.state.tasks.a!.attempts.map((attempt) => attempt.status),
        ['failed', 'failed', 'succeeded'],
      );
    });

    it('fails at once on a non-retryable error even with retries left', () => {
      const run = new RunUnderTest(planOf(pipeline([commandStep('a', { retries: 3 })])));
      run.fail('a', false);
      assert.equal(run.state.status, 'failed');
    });

    it('fails when the retries are used up', () => {
      const run = new RunUnderTest(planOf(pipeline([commandStep('a', { retries: { limit: 1, backoff: 0 } })])));
      assert.deepEqual(run.dispatched(run.fail('a', true, 1)), ['a'], 'backoff 0 retries at once');
      run.fail('a', true, 2);
      assert.equal(run.state.status, 'failed');
      assert.equal(run.state.tasks.a!.attempts.length, 2);
    });
  });

  describe('timeouts', () => {
    it('counts an overdue result as DEADLINE_EXCEEDED and retries with the same key; the late result completes the task', () => {
      const run = new RunUnderTest(planOf(pipeline([commandStep('a', { timeout: '10s', retries: { limit: 1, backoff: 0 } })])));
      const key = run.state.tasks.a!.idempotencyKey;
      assert.equal(run.state.tasks.a!.deadline, at(11), 'timeout + grace');
      assert.deepEqual(run.tick(10.9), []);
      const events = run.tick(11);
      assert.deepEqual(
        events.map((event) => event.type),
        ['TaskAttemptFailed', 'TaskDispatched'],
      );
      assert.equal(events[0]?.type === 'TaskAttemptFailed' && events[0].data.error.code, 'DEADLINE_EXCEEDED');
      assert.equal(run.state.tasks.a!.attempt, 2);
      assert.equal(run.state.tasks.a!.idempotencyKey, key, 'the outcome of attempt 1 is unknown: same effect, same key');
      run.complete('a', { late: true }, 12, key!);
      assert.equal(run.state.status, 'succeeded');
      assert.deepEqual(
        run.state.tasks.a!.attempts.map((attempt) => attempt.status),
        ['timed_out', 'succeeded'],
      );
    });

    it('fails the run when the last attempt times out', () => {
      const run = new RunUnderTest(planOf(pipeline([commandStep('a', { timeout: '5s' })])));
      run.tick(6);
      assert.equal(run.state.status, 'failed');
      assert.equal(run.state.error?.code, 'DEADLINE_EXCEEDED');
    });
  });

  describe('cancellation', () => {
    it('ends the run, abandons the running task, ignores its result and refuses a second cancel', () => {
      const run = new RunUnderTest(planOf(pipeline([commandStep('a'), commandStep('b', { dependsOn: ['a'] })])));
      const events = run.act({ type: 'CancelRun', data: { reason: 'no longer needed' }, metadata: meta(1) });
      assert.deepEqual(
        events.map((event) => event.type),
        ['PipelineRunCancelled'],
      );
      assert.equal(run.state.status, 'cancelled');
      assert.deepEqual([run.status('a'), run.status('b')], ['cancelled', 'cancelled']);
      assert.equal(run.state.tasks.a!.attempts[0]?.status, 'abandoned');
      assert.deepEqual(run.complete('a', {}, 2), []);
      assert.throws(() => run.act({ type: 'CancelRun', data: { reason: 'again' }, metadata: meta(3) }), IllegalStateError);
    });
  });

  describe('conditional steps', () => {
    it('skips a step whose condition is false, and what depends on it; runs the rest', () => {
      const run = new RunUnderTest(
        planOf(
          pipeline(
            [
              commandStep('evaluate', { outputs: { passed: 'boolean', auc: 'number' } }),
              commandStep('promote', { when: 'steps.evaluate.outputs.passed && steps.evaluate.outputs.auc >= params.minAuc' }),
              commandStep('deploy', { dependsOn: ['promote'] }),
              commandStep('report', { dependsOn: ['evaluate'], when: '!steps.evaluate.outputs.passed' }),
            ],
            { params: { minAuc: { type: 'number', default: 0.7 } } },
          ),
        ),
      );
      const events = run.complete('evaluate', { passed: true, auc: 0.65 });
      assert.equal(run.status('promote'), 'skipped');
      assert.equal(run.state.tasks.promote!.skipReason, 'condition');
      assert.equal(run.state.tasks.deploy!.skipReason, 'upstream_skipped');
      assert.equal(run.status('report'), 'skipped');
      assert.equal(events.at(-1)?.type, 'PipelineRunSucceeded');
    });

    it('runs the step when its condition holds', () => {
      const run = new RunUnderTest(planOf(pipeline([commandStep('a', { outputs: ['go'] }), commandStep('b', { when: 'steps.a.outputs.go == "yes"' })])));
      assert.deepEqual(run.dispatched(run.complete('a', { go: 'yes' })), ['b']);
    });

    it('fails the task (not the process) when a condition cannot be evaluated', () => {
      const run = new RunUnderTest(planOf(pipeline([commandStep('a', { outputs: ['n'] }), commandStep('b', { when: 'steps.a.outputs.n > 3' })])));
      run.complete('a', { n: 'many' });
      assert.equal(run.state.status, 'failed');
      assert.equal(run.state.error?.code, 'CONDITION_ERROR');
    });
  });

  describe('caching', () => {
    const cached = (datasetVersionId: string) =>
      planOf(pipeline([commandStep('prepare', { cache: true, inputs: { datasetVersionId: '${{ params.dataset }}' } })], { params: { dataset: 'string' } }), { dataset: datasetVersionId });

    it('waits for the cache lookup, then reuses a hit without dispatching', () => {
      const run = new RunUnderTest(cached('ds-1'));
      assert.equal(run.status('prepare'), 'ready');
      const events = run.act({ type: 'ResolveCache', data: { hits: { prepare: { outputs: { rows: 3 }, sourceRunId: 'run-0', sourceTaskId: 'prepare' } } }, metadata: meta(1) });
      assert.deepEqual(
        events.map((event) => event.type),
        ['TaskReusedFromCache', 'PipelineRunSucceeded'],
      );
      assert.equal(run.state.tasks.prepare!.cached, true);
    });

    it('dispatches on a miss', () => {
      const run = new RunUnderTest(cached('ds-1'));
      assert.deepEqual(run.dispatched(run.act({ type: 'ResolveCache', data: { hits: { prepare: null } }, metadata: meta(1) })), ['prepare']);
    });

    it('keys on the data version read: same inputs same key, a new data version a new key', () => {
      const key = (dataset: string) => new RunUnderTest(cached(dataset)).state.tasks.prepare!.cacheKey;
      assert.equal(key('ds-1'), key('ds-1'));
      assert.notEqual(key('ds-1'), key('ds-2'));
    });
  });

  describe('queued runs', () => {
    it('start when told to, with the plan they were queued with', () => {
      const state0 = initialState();
      const queued = decide({ type: 'CreateRun', data: { runId: 'q', plan: planOf(pipeline([commandStep('a')])), queue: true }, metadata: meta() }, state0);
      const state1 = queued.reduce(evolve, state0);
      assert.equal(state1.status, 'queued');
      const started = decide({ type: 'StartQueuedRun', data: {}, metadata: meta(5) }, state1);
      assert.deepEqual(
        started.map((event) => event.type),
        ['PipelineRunStarted', 'TaskDispatched'],
      );
      assert.deepEqual(decide({ type: 'CreateRun', data: { runId: 'q', plan: planOf(pipeline([commandStep('a')])), queue: false }, metadata: meta() }, state1), [], 'a repeated create is a no-op');
    });
  });
});
