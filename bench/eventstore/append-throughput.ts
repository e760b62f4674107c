import { randomUUID } from 'node:crypto';
import type { EventMetadata, NewEvent, PostgresEventStore } from '@loopline/eventsourcing';
import { runClosedLoop, type LoopResult } from './measure';

const metadata: EventMetadata = { time: new Date(0).toISOString(), actor: 'bench', correlationId: 'bench' };

/** A representative small event: ~150 bytes of JSON data. */
export function benchEvent(seq: number): NewEvent {
  return { type: 'ModelVersionRegistered', data: { seq, model: 'churn', version: seq, artifact: `sha256:${randomUUID()}`, metrics: { auc: 0.91 } }, eventId: randomUUID(), metadata };
}

/**
 * Closed-loop appends, one event each, every writer on a stream of its own and passing the
 * expected version it got back from its previous append (the optimistic-concurrency path).
 */
export function appendThroughput(store: PostgresEventStore, label: string, streams: number, durationMs: number): Promise<LoopResult> {
  const streamIds = Array.from({ length: streams }, (_, index) => `bench-${index}-${randomUUID()}`);
  const versions = streamIds.map(() => 0);
  return runClosedLoop(label, durationMs, streams, async (writer, iteration) => {
    const result = await store.appendToStream(streamIds[writer]!, [benchEvent(iteration)], { expectedVersion: versions[writer]! });
    versions[writer] = result.nextExpectedVersion;
  });
}
