// The automatic triggers of one pipeline (stream `pipeline_triggers-<name>`): every matching
// event or schedule tick is decided here — debounced, skipped, queued, started, or started in
// place of the active run — against the runs active at that moment, which the application reads
// in the same transaction. One stream per pipeline serialises these decisions, so two events
// arriving together cannot both see "no active run" under the `skip` policy.
import type { ConcurrencyPolicy } from '../pipeline/pipeline-definition';

export type TriggerFired = {
  readonly type: 'TriggerFired';
  readonly data: {
    readonly triggerName: string;
    readonly eventId: string;
    readonly eventType: string;
    readonly eventTime: string;
    readonly runId: string;
    /** `queue`: the run waits for the active one(s) to end. */
    readonly mode: 'start' | 'queue';
    /** Runs cancelled to make room (policy `replace`). */
    readonly replacedRunIds: readonly string[];
    readonly decidedAt: string;
  };
};

export type TriggerEventSkipped = {
  readonly type: 'TriggerEventSkipped';
  readonly data: {
    readonly triggerName: string;
    readonly eventId: string;
    readonly eventType: string;
    readonly eventTime: string;
    readonly reason: 'debounced' | 'active_run';
    readonly detail: string;
    readonly decidedAt: string;
  };
};

export type PipelineTriggerEvent = TriggerFired | TriggerEventSkipped;

export interface PipelineTriggersState {
  /** Event time of the last firing, by trigger name. */
  readonly lastFiredAt: Readonly<Record<string, string>>;
  readonly firedCount: number;
  readonly skippedCount: number;
}

export type HandleTriggerEvent = {
  readonly type: 'HandleTriggerEvent';
  readonly data: {
    readonly triggerName: string;
    readonly policy: ConcurrencyPolicy;
    readonly debounceMs: number;
    readonly eventId: string;
    readonly eventType: string;
    readonly eventTime: string;
    /** The run to create if the event fires (deterministic: derived from the event id). */
    readonly runId: string;
    /** Runs of the pipeline that are queued or running now. */
    readonly activeRunIds: readonly string[];
  };
  readonly metadata: { readonly actor: string; readonly at: string };
};

export function initialState(): PipelineTriggersState {
  return { lastFiredAt: {}, firedCount: 0, skippedCount: 0 };
}

export function evolve(state: PipelineTriggersState, event: PipelineTriggerEvent): PipelineTriggersState {
  switch (event.type) {
    case 'TriggerFired':
      return { ...state, lastFiredAt: { ...state.lastFiredAt, [event.data.triggerName]: event.data.eventTime }, firedCount: state.firedCount + 1 };
    case 'TriggerEventSkipped':
      return { ...state, skippedCount: state.skippedCount + 1 };
    default: {
      const unreachable: never = event;
      throw new Error(`unknown trigger event ${JSON.stringify(unreachable)}`);
    }
  }
}

export function decide(command: HandleTriggerEvent, state: PipelineTriggersState): PipelineTriggerEvent[] {
  const { data } = command;
  const decidedAt = command.metadata.at;
  const base = { triggerName: data.triggerName, eventId: data.eventId, eventType: data.eventType, eventTime: data.eventTime, decidedAt };
  const last = state.lastFiredAt[data.triggerName];
  // Leading-edge debounce on event time: the first event of a burst fires at once (no added
  // latency), the rest of the window is ignored.
  if (last !== undefined && data.debounceMs > 0 && Date.parse(data.eventTime) < Date.parse(last) + data.debounceMs) {
    return [{ type: 'TriggerEventSkipped', data: { ...base, reason: 'debounced', detail: `within ${data.debounceMs} ms of the firing at ${last}` } }];
  }
  const active = data.activeRunIds;
  switch (data.policy) {
    case 'allow':
      return [{ type: 'TriggerFired', data: { ...base, runId: data.runId, mode: 'start', replacedRunIds: [] } }];
    case 'skip':
      if (active.length > 0) return [{ type: 'TriggerEventSkipped', data: { ...base, reason: 'active_run', detail: `run(s) ${active.join(', ')} active` } }];
      return [{ type: 'TriggerFired', data: { ...base, runId: data.runId, mode: 'start', replacedRunIds: [] } }];
    case 'queue':
      return [{ type: 'TriggerFired', data: { ...base, runId: data.runId, mode: active.length > 0 ? 'queue' : 'start', replacedRunIds: [] } }];
    case 'replace':
      return [{ type: 'TriggerFired', data: { ...base, runId: data.runId, mode: 'start', replacedRunIds: [...active] } }];
    default: {
      const unreachable: never = data.policy;
      throw new Error(`unknown concurrency policy ${String(unreachable)}`);
    }
  }
}

export const pipelineTriggersDecider = { decide, evolve, initialState };
