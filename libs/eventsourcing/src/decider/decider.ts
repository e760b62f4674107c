/**
 * A decider is the pure core of an aggregate (Jérémie Chassaing's pattern, as Emmett uses it):
 * `decide` turns a command into events given the current state, `evolve` folds one event into the
 * state, `initialState` is the state of a stream with no events. No I/O, no clock, no ids: time,
 * ids and the actor arrive in the command.
 */
export interface Decider<Command, State, Event> {
  /** Validates the command against the state and returns the events it causes (possibly none). Throws a `LooplineError` to refuse. */
  decide(command: Command, state: State): readonly Event[];
  /** The state after one more event. Must accept every event `decide` has ever produced. */
  evolve(state: State, event: Event): State;
  /** The state of a stream that does not exist yet. */
  initialState(): State;
}

/** The part of a decider that rebuilds state: what `aggregateStream` needs. */
export type Evolver<State, Event> = Pick<Decider<unknown, State, Event>, 'evolve' | 'initialState'>;

/** Folds events, oldest first, into the state they produce. */
export function foldEvents<State, Event>(evolver: Evolver<State, Event>, events: Iterable<Event>): State {
  let state = evolver.initialState();
  for (const event of events) state = evolver.evolve(state, event);
  return state;
}
