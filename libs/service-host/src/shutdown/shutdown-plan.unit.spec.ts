import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runShutdown } from './shutdown';
import { shutdownPlan } from './shutdown-plan';

describe('shutdownPlan', () => {
  it('stops reporting ready, then closes the servers, then the clients, and flushes telemetry last', async () => {
    const events: string[] = [];
    const plan = shutdownPlan({
      readiness: { drain: () => void events.push('readiness drained') },
      application: {
        close: async () => {
          events.push('servers closed');
        },
      },
      infrastructure: [
        { name: 'close Postgres pool', run: () => void events.push('postgres closed') },
        { name: 'disconnect Kafka admin', run: () => void events.push('kafka closed') },
      ],
      flushTelemetry: async () => {
        events.push('telemetry flushed');
      },
    });
    const outcome = await runShutdown(plan, { timeoutMs: 1_000 });
    assert.deepEqual(events, ['readiness drained', 'servers closed', 'postgres closed', 'kafka closed', 'telemetry flushed']);
    assert.deepEqual(outcome.completed, ['stop reporting ready', 'close gRPC and HTTP servers', 'close Postgres pool', 'disconnect Kafka admin', 'flush telemetry']);
  });
});
