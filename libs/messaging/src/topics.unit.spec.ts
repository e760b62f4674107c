import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessagingError } from './messaging-error';
import { withDeadLetterTopics } from './topics';

describe('withDeadLetterTopics', () => {
  it('adds a .dlq topic with the same settings when asked', () => {
    const specs = withDeadLetterTopics([
      { topic: 'a', numPartitions: 3, replicationFactor: 1, configs: { 'retention.ms': '1000' }, withDeadLetterTopic: true },
      { topic: 'b', numPartitions: 1, replicationFactor: 1 },
    ]);
    assert.deepEqual(specs, [
      { topic: 'a', numPartitions: 3, replicationFactor: 1, configs: { 'retention.ms': '1000' } },
      { topic: 'a.dlq', numPartitions: 3, replicationFactor: 1, configs: { 'retention.ms': '1000' } },
      { topic: 'b', numPartitions: 1, replicationFactor: 1 },
    ]);
  });

  it('lists a topic once when specified twice alike', () => {
    const spec = { topic: 'a', numPartitions: 1, replicationFactor: 1 };
    assert.deepEqual(withDeadLetterTopics([spec, spec]), [spec]);
  });

  it('refuses one topic specified with two partition counts', () => {
    assert.throws(
      () => withDeadLetterTopics([{ topic: 'a', numPartitions: 1, replicationFactor: 1 }, { topic: 'a', numPartitions: 2, replicationFactor: 1 }]),
      (error: unknown) => error instanceof MessagingError && error.code === 'INVALID_OPTIONS',
    );
  });
});
