import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IllegalStateError, ValidationError } from '@loopline/errors';
import type { Decider } from './decider';
import { DeciderSpecification } from './decider-specification';

// A tiny example aggregate, defined here only to exercise the specification helper.
type TicketCommand = { type: 'OpenTicket'; data: { title: string } } | { type: 'CloseTicket'; data: { reason: string } };
type TicketEvent = { type: 'TicketOpened'; data: { title: string } } | { type: 'TicketClosed'; data: { reason: string } };
type TicketState = { status: 'none' } | { status: 'open'; title: string } | { status: 'closed' };

const ticket: Decider<TicketCommand, TicketState, TicketEvent> = {
  initialState: () => ({ status: 'none' }),
  decide(command, state) {
    switch (command.type) {
      case 'OpenTicket':
        if (state.status !== 'none') throw new IllegalStateError('ticket already opened', { status: state.status });
        if (command.data.title.trim() === '') throw new ValidationError('title is empty', { field: 'title' });
        return [{ type: 'TicketOpened', data: { title: command.data.title } }];
      case 'CloseTicket':
        if (state.status === 'closed') return []; // closing twice is a no-op, not an error
        if (state.status !== 'open') throw new IllegalStateError('ticket is not open', { status: state.status });
        return [{ type: 'TicketClosed', data: { reason: command.data.reason } }];
      default: {
        const unreachable: never = command;
        throw new Error(`unknown command ${JSON.stringify(unreachable)}`);
      }
    }
  },
  evolve(_state, event) {
    switch (event.type) {
      case 'TicketOpened':
        return { status: 'open', title: event.data.title };
      case 'TicketClosed':
        return { status: 'closed' };
      default: {
        const unreachable: never = event;
        throw new Error(`unknown event ${JSON.stringify(unreachable)}`);
      }
    }
  },
};

const opened: TicketEvent = { type: 'TicketOpened', data: { title: 'drift on model m' } };
const closed: TicketEvent = { type: 'TicketClosed', data: { reason: 'retrained' } };
const spec = DeciderSpecification.for(ticket);

describe('DeciderSpecification', () => {
  describe('with no history', () => {
    it('passes when the command produces the expected events', () => {
      spec.when({ type: 'OpenTicket', data: { title: 'drift on model m' } }).then([opened]);
    });

    it('passes when the command is refused with the expected error class', () => {
      spec.when({ type: 'CloseTicket', data: { reason: 'x' } }).thenThrows(IllegalStateError, (error) => {
        assert.equal(error.code, 'ILLEGAL_STATE');
        assert.deepEqual(error.details, { status: 'none' });
      });
    });
  });

  describe('given a history', () => {
    it('decides against the state folded from the given events', () => {
      spec.given([opened]).when({ type: 'CloseTicket', data: { reason: 'retrained' } }).then([closed]);
    });

    it('accepts an empty outcome for a no-op command', () => {
      spec.given([opened, closed]).when({ type: 'CloseTicket', data: { reason: 'again' } }).then([]);
    });
  });

  describe('when the outcome differs from the expectation', () => {
    it('fails on different events', () => {
      assert.throws(() => spec.given([opened]).when({ type: 'CloseTicket', data: { reason: 'retrained' } }).then([opened]), assert.AssertionError);
    });

    it('fails when an expected error did not happen, naming the events decided', () => {
      assert.throws(
        () => spec.when({ type: 'OpenTicket', data: { title: 't' } }).thenThrows(IllegalStateError),
        /expected IllegalStateError but the command was accepted with \[\{"type":"TicketOpened"/,
      );
    });

    it('fails when the error is of another class', () => {
      assert.throws(
        () => spec.when({ type: 'OpenTicket', data: { title: ' ' } }).thenThrows(IllegalStateError),
        /expected IllegalStateError but got ValidationError: title is empty/,
      );
    });

    it('fails when the events were expected but the command was refused', () => {
      assert.throws(() => spec.given([opened]).when({ type: 'OpenTicket', data: { title: 't' } }).then([]), IllegalStateError);
    });
  });
});
