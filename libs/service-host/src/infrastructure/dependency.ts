import type { ReadinessCheck } from '../readiness/readiness';
import type { ShutdownStep } from '../shutdown/shutdown';

/** Infrastructure a service can depend on; each one becomes a readiness check. */
export type Dependency = 'postgres' | 'kafka' | 'clickhouse';

/** An opened dependency: its client (absent when not configured), its readiness check, how to close it. */
export interface OpenedDependency<Client> {
  readonly client: Client | undefined;
  readonly check: ReadinessCheck;
  readonly close?: ShutdownStep;
}
