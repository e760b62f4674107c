import assert from 'node:assert/strict';
import { foldEvents, type Decider } from './decider';

/** Any error class, so `thenThrows(ValidationError)` narrows the thrown value. */
type ErrorClass<E extends Error> = abstract new (...args: never[]) => E;

export interface DeciderThen<Event> {
  /** Asserts that the command produced exactly these events, in this order (deep equality). */
  then(expectedEvents: readonly Event[]): void;
  /** Asserts that the command was refused with an instance of `errorClass`; `check` may assert more (code, details). */
  thenThrows<E extends Error>(errorClass: ErrorClass<E>, check?: (error: E) => void): void;
}

export interface DeciderWhen<Command, Event> {
  when(command: Command): DeciderThen<Event>;
}

export interface DeciderGiven<Command, Event> extends DeciderWhen<Command, Event> {
  given(events: readonly Event[]): DeciderWhen<Command, Event>;
}

/**
 * Given/when/then for deciders (Emmett's `DeciderSpecification`): the history is events, the
 * action one command, the outcome the events decided or the error thrown. Because a decider is
 * pure, this is the whole unit test of an aggregate.
 *
 * ```ts
 * const spec = DeciderSpecification.for(modelVersionDecider);
 * spec.given([registered]).when(promote).then([promoted]);
 * spec.given([]).when(promote).thenThrows(NotFoundError);
 * ```
 */
export const DeciderSpecification = {
  for<Command, State, Event>(decider: Decider<Command, State, Event>): DeciderGiven<Command, Event> {
    const whenAfter = (history: readonly Event[]): DeciderWhen<Command, Event> => ({
      when: (command) => {
        // Deciding lazily, inside then/thenThrows, lets each assertion see the throw itself.
        const decide = (): readonly Event[] => decider.decide(command, foldEvents(decider, history));
        return {
          then: (expectedEvents) => assert.deepStrictEqual(decide(), expectedEvents),
          thenThrows: (errorClass, check) => {
            let outcome: { events: readonly Event[] } | { error: unknown };
            try {
              outcome = { events: decide() };
            } catch (error) {
              outcome = { error };
            }
            if (!('error' in outcome)) {
              assert.fail(`expected ${errorClass.name} but the command was accepted with ${JSON.stringify(outcome.events)}`);
            }
            assert.ok(
              outcome.error instanceof errorClass,
              `expected ${errorClass.name} but got ${outcome.error instanceof Error ? `${outcome.error.name}: ${outcome.error.message}` : String(outcome.error)}`,
            );
            check?.(outcome.error);
          },
        };
      },
    });
    return { ...whenAfter([]), given: (events) => whenAfter(events) };
  },
};
