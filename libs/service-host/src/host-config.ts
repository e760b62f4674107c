import type { ServiceConfig } from '@loopline/config';

/** The configuration the host reads: exactly what `loadServiceConfig` returns. */
export type HostConfig = ServiceConfig;
