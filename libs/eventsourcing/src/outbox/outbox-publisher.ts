import type { PendingOutboxMessage } from './outbox-message';

/**
 * Where the relay sends outbox rows. `publish` resolves only when every message is durably
 * accepted (Kafka: acknowledged by all in-sync replicas); the relay marks rows published after it
 * resolves, so a crash in between republishes them (at-least-once; consumers dedupe by `ce_id`).
 * Messages must be sent in the order given: that order is per-key order.
 */
export interface OutboxPublisher {
  publish(messages: readonly PendingOutboxMessage[]): Promise<void>;
  /**
   * Whether a failure is the message's own fault (too large, invalid or unknown topic), so that
   * retrying it counts towards dead-lettering, rather than the transport's (broker down), which
   * is retried without limit. Without it, every failure counts.
   */
  isPoison?(error: unknown): boolean;
}
