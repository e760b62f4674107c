import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ConsumerLifecycleEvent, type ConsumerState, nextConsumerState } from './consumer-state';

function replay(events: ConsumerLifecycleEvent[], from: ConsumerState = 'starting'): ConsumerState {
  return events.reduce(nextConsumerState, from);
}

describe('nextConsumerState', () => {
  it('is running once the group is joined', () => {
    assert.equal(replay([{ type: 'joined' }]), 'running');
  });

  it('is restarting after a retriable crash, and running again after the rejoin', () => {
    assert.equal(replay([{ type: 'joined' }, { type: 'crashed', restart: true }]), 'restarting');
    assert.equal(replay([{ type: 'joined' }, { type: 'crashed', restart: true }, { type: 'joined' }]), 'running');
  });

  it('is crashed after a crash kafkajs will not restart', () => {
    assert.equal(replay([{ type: 'joined' }, { type: 'crashed', restart: false }]), 'crashed');
  });

  it('ignores joins and crashes once stopping, and stays stopped', () => {
    assert.equal(replay([{ type: 'joined' }, { type: 'stop-requested' }, { type: 'joined' }, { type: 'crashed', restart: true }]), 'stopping');
    assert.equal(replay([{ type: 'stop-requested' }, { type: 'stopped' }, { type: 'joined' }]), 'stopped');
  });
});
