import { randomUUID } from 'node:crypto';
import { ConcurrencyError } from '@loopline/errors';
import type { Decider } from '../decider/decider';
import type { DomainEvent, EventDecoder, EventMetadata, EventPosition, NewEvent } from '../events/event';
import type { EventStore } from '../events/event-store';
import type { OutboxMessage } from '../outbox/outbox-message';
import { backoffDelay } from '../timing/wake-up';

/** What arrives with every command: who, when, and which flow; domain code reads nothing else from the world. */
export interface CommandMetadata {
  /** Becomes each event's causation id. */
  readonly commandId: string;
  readonly time: Date | string;
  readonly actor: string;
  readonly correlationId: string;
  readonly traceparent?: string;
  readonly tracestate?: string;
}

export interface HandleCommandInput<Command, State, E extends DomainEvent> {
  readonly store: Pick<EventStore, 'aggregateStream' | 'appendToStream'>;
  readonly decider: Decider<Command, State, E>;
  readonly streamId: string;
  readonly streamType?: string;
  readonly command: Command;
  readonly metadata: CommandMetadata;
  readonly decode?: EventDecoder<E>;
  /** Turns decided events into stored ones; by default each gets a fresh UUID and the command's metadata. */
  readonly toEvents?: (events: readonly E[], metadata: EventMetadata) => readonly NewEvent<E>[];
  /** Messages to publish with the events, written in the same transaction (transactional outbox). */
  readonly outbox?: (events: readonly NewEvent<E>[], stateAfter: State) => readonly OutboxMessage[];
  /** Attempts in all when the stream moves between load and append. Default 3, from 10 ms, jittered. */
  readonly retry?: { readonly attempts?: number; readonly initialDelayMs?: number };
}

export interface HandleCommandResult<State, E extends DomainEvent> {
  readonly events: readonly NewEvent<E>[];
  readonly state: State;
  /** The stream version after the command (unchanged when it decided nothing). */
  readonly version: number;
  readonly positions: readonly EventPosition[];
  /** Attempts used: 1 unless another writer got in between. */
  readonly attempts: number;
}

/**
 * The application-side loop: load the stream, decide, append at the loaded version. If another
 * writer appended in between (`ConcurrencyError`), reload and decide again, a bounded number of
 * times with jittered backoff, then rethrow (the transport maps it to ABORTED / 409).
 * Deciding nothing appends nothing.
 */
export async function handleCommand<Command, State, E extends DomainEvent>(
  input: HandleCommandInput<Command, State, E>,
): Promise<HandleCommandResult<State, E>> {
  const maxAttempts = input.retry?.attempts ?? 3;
  const initialDelayMs = input.retry?.initialDelayMs ?? 10;
  const metadata: EventMetadata = {
    time: input.metadata.time instanceof Date ? input.metadata.time.toISOString() : input.metadata.time,
    actor: input.metadata.actor,
    correlationId: input.metadata.correlationId,
    causationId: input.metadata.commandId,
    traceparent: input.metadata.traceparent,
    tracestate: input.metadata.tracestate,
  };
  const toEvents = input.toEvents ?? ((events) => events.map((event) => ({ ...event, eventId: randomUUID(), metadata })));

  for (let attempt = 1; ; attempt += 1) {
    const { state, version } = await input.store.aggregateStream(input.streamId, input.decider, { decode: input.decode });
    const decided = input.decider.decide(input.command, state);
    if (decided.length === 0) return { events: [], state, version, positions: [], attempts: attempt };
    const events = toEvents(decided, metadata);
    const stateAfter = decided.reduce((current, event) => input.decider.evolve(current, event), state);
    try {
      const appended = await input.store.appendToStream(input.streamId, events, {
        expectedVersion: version,
        streamType: input.streamType,
        outbox: input.outbox?.(events, stateAfter),
      });
      return { events, state: stateAfter, version: appended.nextExpectedVersion, positions: appended.positions, attempts: attempt };
    } catch (error) {
      if (!(error instanceof ConcurrencyError) || attempt >= maxAttempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt, initialDelayMs, 1_000)));
    }
  }
}
