import { resolve } from 'node:path';
import { z } from 'zod';
import { loadArtifactStoreSettings, type ArtifactStoreSettings } from '@loopline/artifacts';
import { collectProblems, ConfigError, loadConfig as parseEnv, loadServiceConfig, type ServiceConfig } from '@loopline/config';

const mebibyte = 1024 * 1024;
const positiveInt = z.coerce.number().int().positive();

/**
 * The registry's own settings, under `LOOPLINE_REGISTRY_`. Artifacts live on the local file
 * system under `<dataDir>/artifacts/registry` unless `LOOPLINE_REGISTRY_ARTIFACT_STORE=s3`, which
 * then requires `LOOPLINE_REGISTRY_S3_BUCKET` (endpoint, region, prefix and credentials optional:
 * see `loadArtifactStoreSettings` of @loopline/artifacts).
 */
const registrySchema = z.object({
  LOOPLINE_REGISTRY_MAX_ARTIFACT_BYTES: positiveInt.default(256 * mebibyte),
  LOOPLINE_REGISTRY_MAX_METADATA_BYTES: positiveInt.default(16 * mebibyte),
  LOOPLINE_REGISTRY_VALIDATION_TIMEOUT_MS: positiveInt.default(30_000),
  LOOPLINE_REGISTRY_VALIDATION_MEMORY_MB: positiveInt.min(64).default(2_048),
  LOOPLINE_REGISTRY_VALIDATION_CONCURRENCY: positiveInt.max(64).default(2),
  LOOPLINE_REGISTRY_TOPIC_REPLICATION_FACTOR: positiveInt.max(16).default(1),
});

export interface RegistrySettings {
  /** Absolute root of the local artifact store; also holds uploads in progress (`.incoming/`). */
  readonly artifactRoot: string;
  /** Local, or S3-compatible (`LOOPLINE_REGISTRY_ARTIFACT_STORE=s3` and `LOOPLINE_REGISTRY_S3_*`). */
  readonly artifactStore: ArtifactStoreSettings;
  readonly maxArtifactBytes: number;
  readonly maxMetadataBytes: number;
  readonly validation: { readonly timeoutMs: number; readonly memoryMb: number; readonly concurrency: number };
  readonly topicReplicationFactor: number;
}

/** The registry service's configuration: the keys every service shares, plus `registry`. */
export type RegistryConfig = ServiceConfig & { readonly registry: RegistrySettings };

/** Read once at start; the only reader of `process.env` in this service. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): RegistryConfig {
  // Both parts are parsed before failing, so one error lists every bad key.
  const problems: string[] = [];
  const service = collectProblems(problems, () => loadServiceConfig('registry', env));
  const own = collectProblems(problems, () => parseEnv(registrySchema, env));
  // The same folder the shared LOOPLINE_DATA_DIR (default `.loopline`) gives every service.
  const artifactRoot = resolve(env.LOOPLINE_DATA_DIR || '.loopline', 'artifacts', 'registry');
  const artifactStore = collectProblems(problems, () =>
    loadArtifactStoreSettings(env, { envPrefix: 'LOOPLINE_REGISTRY_', localRoot: artifactRoot, defaultS3Prefix: 'registry/' }),
  );
  if (service === undefined || own === undefined || artifactStore === undefined) throw new ConfigError(problems);
  return {
    ...service,
    registry: {
      artifactRoot,
      artifactStore,
      maxArtifactBytes: own.LOOPLINE_REGISTRY_MAX_ARTIFACT_BYTES,
      maxMetadataBytes: own.LOOPLINE_REGISTRY_MAX_METADATA_BYTES,
      validation: {
        timeoutMs: own.LOOPLINE_REGISTRY_VALIDATION_TIMEOUT_MS,
        memoryMb: own.LOOPLINE_REGISTRY_VALIDATION_MEMORY_MB,
        concurrency: own.LOOPLINE_REGISTRY_VALIDATION_CONCURRENCY,
      },
      topicReplicationFactor: own.LOOPLINE_REGISTRY_TOPIC_REPLICATION_FACTOR,
    },
  };
}

