import type { ShutdownStep } from './shutdown';

export interface ShutdownParts {
  /** Health turns NOT_SERVING first, so balancers and Watch subscribers move away before anything closes. */
  readonly readiness: { drain(): void };
  /** The Nest application: stops accepting, finishes in-flight requests, closes the gRPC and HTTP servers. */
  readonly application: { close(): Promise<void> };
  /** Pools and clients, closed only once no request can use them any more. */
  readonly infrastructure: readonly ShutdownStep[];
  /** Last, so the spans of everything above are exported too. */
  readonly flushTelemetry: () => Promise<void>;
}

/** The order in which a service stops; see `ShutdownParts` for why each step comes where it does. */
export function shutdownPlan(parts: ShutdownParts): ShutdownStep[] {
  return [
    { name: 'stop reporting ready', run: () => parts.readiness.drain() },
    { name: 'close gRPC and HTTP servers', run: () => parts.application.close() },
    ...parts.infrastructure,
    { name: 'flush telemetry', run: () => parts.flushTelemetry() },
  ];
}
