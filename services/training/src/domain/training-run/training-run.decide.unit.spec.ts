import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IllegalStateError, NotFoundError, ValidationError } from '@loopline/errors';
import { trainingRunDecider, type StartTrainingRun, type TrainingRunCommand } from './training-run.decide';
import { evolve, initialState, latestMetrics, type TrainingRunEvent, type TrainingRunState } from './training-run';

const runId = '5d1c7f0a-3b7e-4f3c-8f47-8c1b0d9e2a61';
const metadata = { actor: 'user:alice', at: '2026-03-01T10:00:00.000Z' };
const decider = trainingRunDecider(runId);

const start: StartTrainingRun = {
  type: 'StartTrainingRun',
  data: {
    runId,
    runName: 'gbdt',
    experimentName: 'flight-delay',
    modelName: 'flight-delay',
    trainer: { name: 'builtin/gbdt-classifier', version: '0.1.0' },
    params: { numLeaves: '31' },
    trainingData: { trainingSetId: 'a'.repeat(64), datasetVersionIds: [], featureViews: [], labelColumn: 'delayed', featureColumns: ['distance'], rowCount: 10 },
    seed: 42,
    codeCommit: 'abc',
    environmentLockSha256: 'b'.repeat(64),
    parentRunId: null,
    task: null,
    job: { kind: 'train', request: {} },
    tags: {},
  },
  metadata,
};

/** Given these commands were decided and applied, the state. */
function given(...commands: TrainingRunCommand[]): TrainingRunState {
  let state = initialState();
  for (const command of commands) for (const event of decider.decide(command, state)) state = evolve(state, event);
  return state;
}
const when = (state: TrainingRunState, command: TrainingRunCommand): TrainingRunEvent[] => decider.decide(command, state);

describe('TrainingRun', () => {
  describe('when started', () => {
    it('records the run with its actor and time', () => {
      const [event] = when(initialState(), start);
      assert.equal(event!.type, 'TrainingRunStarted');
      assert.equal(event!.type === 'TrainingRunStarted' && event.data.startedAt, metadata.at);
    });
    it('records nothing when started again (a redelivered command)', () => {
      assert.deepEqual(when(given(start), start), []);
    });
    it('refuses a param key with characters outside the allowed set', () => {
      assert.throws(() => when(initialState(), { ...start, data: { ...start.data, params: { 'a\nb': '1' } } }), ValidationError);
    });
  });

  describe('params', () => {
    it('logs new params, ignores the same value again, refuses another value', () => {
      const state = given(start);
      assert.deepEqual(when(state, { type: 'LogParams', data: { params: { numLeaves: '31', depth: '6' } }, metadata }), [{ type: 'TrainingRunParamsLogged', data: { runId, params: { depth: '6' } } }]);
      assert.deepEqual(when(state, { type: 'LogParams', data: { params: { numLeaves: '31' } }, metadata }), []);
      assert.throws(() => when(state, { type: 'LogParams', data: { params: { numLeaves: '63' } }, metadata }), IllegalStateError);
    });
  });

  describe('metrics', () => {
    it('appends every value with its step; the latest is the highest step', () => {
      const log = (value: number, step: number): TrainingRunCommand => ({ type: 'LogMetrics', data: { metrics: [{ key: 'loss', value, step, timestamp: metadata.at }] }, metadata });
      const state = given(start, log(0.9, 0), log(0.4, 2), log(0.5, 1));
      assert.ok(state.status === 'RUNNING');
      if (state.status !== 'RUNNING') return;
      assert.deepEqual(state.metrics.map((metric) => metric.value), [0.9, 0.4, 0.5]);
      assert.deepEqual(latestMetrics(state), { loss: 0.4 });
    });
    it('refuses NaN and negative steps', () => {
      const state = given(start);
      assert.throws(() => when(state, { type: 'LogMetrics', data: { metrics: [{ key: 'auc', value: Number.NaN, step: 0, timestamp: metadata.at }] }, metadata }), ValidationError);
      assert.throws(() => when(state, { type: 'LogMetrics', data: { metrics: [{ key: 'auc', value: 1, step: -1, timestamp: metadata.at }] }, metadata }), ValidationError);
    });
  });

  describe('when ended', () => {
    const complete: TrainingRunCommand = { type: 'CompleteRun', data: { status: 'FINISHED', model: null, referenceProfile: null, registered: { modelName: 'flight-delay', version: 3 }, outputs: { version: 3 } }, metadata };
    it('takes no more params or metrics, but tags stay mutable', () => {
      const state = given(start, complete);
      assert.equal(state.status, 'FINISHED');
      assert.throws(() => when(state, { type: 'LogMetrics', data: { metrics: [{ key: 'auc', value: 1, step: 0, timestamp: metadata.at }] }, metadata }), IllegalStateError);
      assert.deepEqual(when(state, { type: 'SetTag', data: { key: 'note', value: 'good' }, metadata }).map((event) => event.type), ['TrainingRunTagSet']);
    });
    it('completes once: a retried completion records nothing, a failure after it is refused', () => {
      const state = given(start, complete);
      assert.deepEqual(when(state, complete), []);
      assert.throws(() => when(state, { type: 'FailRun', data: { errorCode: 'X', errorMessage: 'x', retryable: false, logsUri: '' }, metadata }), IllegalStateError);
    });
    it('answers a task again only once the run has ended, and only for task runs', () => {
      const resend: TrainingRunCommand = { type: 'ResendTaskResult', data: { idempotencyKey: 'k' }, metadata };
      assert.deepEqual(when(given(start, complete), resend), [], 'not a task run');
      const task = { pipelineRunId: 'p', taskId: 't', attempt: 1, idempotencyKey: 'k', stepKind: 'train' as const, pipelineName: 'p' };
      const taskStart = { ...start, data: { ...start.data, task } };
      assert.deepEqual(when(given(taskStart), resend), [], 'still running');
      assert.deepEqual(when(given(taskStart, complete), resend).map((event) => event.type), ['TrainingTaskResultResent']);
    });
  });

  it('refuses commands to a run that does not exist', () => {
    assert.throws(() => when(initialState(), { type: 'SetTag', data: { key: 'a', value: 'b' }, metadata }), NotFoundError);
  });
});
