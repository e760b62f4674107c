import { describe, it } from 'node:test';
import { DeciderSpecification } from '@loopline/eventsourcing';
import type { ConcurrencyPolicy } from '../pipeline/pipeline-definition';
import { pipelineTriggersDecider, type HandleTriggerEvent, type PipelineTriggerEvent } from './pipeline-triggers';

const spec = DeciderSpecification.for(pipelineTriggersDecider);
const at = '2026-03-01T10:00:05.000Z';

function event(id: string, time: string, policy: ConcurrencyPolicy, activeRunIds: string[] = [], debounceMs = 0): HandleTriggerEvent {
  return {
    type: 'HandleTriggerEvent',
    data: { triggerName: 'on-drift', policy, debounceMs, eventId: id, eventType: 'loopline.monitoring.v1.DriftDetected', eventTime: time, runId: `run-${id}`, activeRunIds },
    metadata: { actor: 'trigger:on-drift', at },
  };
}

const base = (id: string, time: string) => ({ triggerName: 'on-drift', eventId: id, eventType: 'loopline.monitoring.v1.DriftDetected', eventTime: time, decidedAt: at });
const fired = (id: string, time: string, mode: 'start' | 'queue' = 'start', replacedRunIds: string[] = []): PipelineTriggerEvent => ({
  type: 'TriggerFired',
  data: { ...base(id, time), runId: `run-${id}`, mode, replacedRunIds },
});

describe('PipelineTriggers', () => {
  it('starts a run when nothing is active, whatever the policy', () => {
    for (const policy of ['allow', 'skip', 'queue', 'replace'] as const) spec.given([]).when(event('e1', '2026-03-01T10:00:00.000Z', policy)).then([fired('e1', '2026-03-01T10:00:00.000Z')]);
  });

  it('skip: ignores the event while a run is active', () => {
    spec
      .given([])
      .when(event('e2', '2026-03-01T10:00:01.000Z', 'skip', ['run-e1']))
      .then([{ type: 'TriggerEventSkipped', data: { ...base('e2', '2026-03-01T10:00:01.000Z'), reason: 'active_run', detail: 'run(s) run-e1 active' } }]);
  });

  it('queue: queues the run behind the active one', () => {
    spec.given([]).when(event('e2', '2026-03-01T10:00:01.000Z', 'queue', ['run-e1'])).then([fired('e2', '2026-03-01T10:00:01.000Z', 'queue')]);
  });

  it('replace: starts the run in place of the active ones', () => {
    spec.given([]).when(event('e2', '2026-03-01T10:00:01.000Z', 'replace', ['run-e1'])).then([fired('e2', '2026-03-01T10:00:01.000Z', 'start', ['run-e1'])]);
  });

  it('debounce: ignores events within the window after a firing, by event time', () => {
    const history = [fired('e1', '2026-03-01T10:00:00.000Z')];
    spec
      .given(history)
      .when(event('e2', '2026-03-01T10:00:30.000Z', 'allow', [], 60_000))
      .then([{ type: 'TriggerEventSkipped', data: { ...base('e2', '2026-03-01T10:00:30.000Z'), reason: 'debounced', detail: 'within 60000 ms of the firing at 2026-03-01T10:00:00.000Z' } }]);
    spec.given(history).when(event('e3', '2026-03-01T10:01:00.000Z', 'allow', [], 60_000)).then([fired('e3', '2026-03-01T10:01:00.000Z')]);
  });
});
