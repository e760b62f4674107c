/**
 * Lifecycle of a subscription, as readiness sees it. kafkajs reports crashes only through an
 * event; a consumer that died without restarting looks alive unless someone listens (kafkajs#1513),
 * so `running` is granted only by a successful group join.
 */
export type ConsumerState =
  /** Connecting and joining the group for the first time. */
  | 'starting'
  /** Member of the group, fetching and handling. */
  | 'running'
  /** Crashed; kafkajs (on a retriable error) or the subscription (otherwise) restarts it after a delay. */
  | 'restarting'
  /** Crashed for good; only a new subscription (or a process restart) brings it back. */
  | 'crashed'
  | 'stopping'
  | 'stopped';

export type ConsumerLifecycleEvent =
  | { readonly type: 'joined' }
  | { readonly type: 'crashed'; readonly restart: boolean }
  | { readonly type: 'stop-requested' }
  | { readonly type: 'stopped' };

export function nextConsumerState(state: ConsumerState, event: ConsumerLifecycleEvent): ConsumerState {
  // Once stopping, nothing kafkajs reports (a late join, a crash while leaving) revives the consumer.
  if (state === 'stopped') return 'stopped';
  if (state === 'stopping' && event.type !== 'stopped') return 'stopping';
  switch (event.type) {
    case 'joined':
      return 'running';
    case 'crashed':
      return event.restart ? 'restarting' : 'crashed';
    case 'stop-requested':
      return 'stopping';
    case 'stopped':
      return 'stopped';
    default: {
      const unreachable: never = event;
      throw new Error(`unhandled consumer event ${JSON.stringify(unreachable)}`);
    }
  }
}
