import { z } from 'zod';
import { loadConfig } from '@loopline/config';

const flag = z.enum(['true', 'false']).transform((value) => value === 'true');

export type S3Settings = {
  readonly endpoint: string | undefined;
  readonly region: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly forcePathStyle: boolean;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string } | undefined;
};

export type ArtifactStoreSettings = { readonly kind: 'local'; readonly root: string } | ({ readonly kind: 's3'; readonly root: string } & S3Settings);

const keys = ['ARTIFACT_STORE', 'S3_ENDPOINT', 'S3_REGION', 'S3_BUCKET', 'S3_PREFIX', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'S3_FORCE_PATH_STYLE'] as const;

function schema(defaultPrefix: string) {
  return z
    .object({
      ARTIFACT_STORE: z.enum(['local', 's3']).default('local'),
      S3_ENDPOINT: z.string().url().optional(),
      S3_REGION: z.string().min(1).default('us-east-1'),
      S3_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected an S3 bucket name').optional(),
      S3_PREFIX: z.string().regex(/^([A-Za-z0-9_-]+\/)*$/, 'expected path segments each ending with "/", e.g. "registry/"').default(defaultPrefix),
      S3_ACCESS_KEY_ID: z.string().min(1).optional(),
      S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
      S3_FORCE_PATH_STYLE: flag.optional(),
    })
    .superRefine((env, context) => {
      if (env.ARTIFACT_STORE === 's3' && !env.S3_BUCKET) {
        context.addIssue({ code: z.ZodIssueCode.custom, path: ['S3_BUCKET'], message: 'required when the artifact store is s3' });
      }
      if (Boolean(env.S3_ACCESS_KEY_ID) !== Boolean(env.S3_SECRET_ACCESS_KEY)) {
        context.addIssue({ code: z.ZodIssueCode.custom, path: ['S3_SECRET_ACCESS_KEY'], message: 'set both the access key id and the secret access key, or neither' });
      }
    });
}

/**
 * A service's artifact store settings, read under its own prefix (e.g. `LOOPLINE_REGISTRY_`):
 * `<prefix>ARTIFACT_STORE=local|s3`, and for s3 `<prefix>S3_BUCKET`, `_ENDPOINT`, `_REGION`,
 * `_PREFIX`, `_ACCESS_KEY_ID`, `_SECRET_ACCESS_KEY`, `_FORCE_PATH_STYLE`. Locally, blobs live under
 * `localRoot`. Errors name the variables the operator set.
 */
export function loadArtifactStoreSettings(
  env: Record<string, string | undefined>,
  options: { readonly envPrefix: string; readonly localRoot: string; readonly defaultS3Prefix: string },
): ArtifactStoreSettings {
  const values = Object.fromEntries(keys.map((key) => [key, env[`${options.envPrefix}${key}`]]));
  const names = Object.fromEntries(keys.map((key) => [key, `${options.envPrefix}${key}`]));
  const own = loadConfig(schema(options.defaultS3Prefix), values, names);
  if (own.ARTIFACT_STORE === 'local') return { kind: 'local', root: options.localRoot };
  return {
    kind: 's3',
    root: options.localRoot,
    endpoint: own.S3_ENDPOINT,
    region: own.S3_REGION,
    bucket: own.S3_BUCKET!,
    prefix: own.S3_PREFIX,
    // S3-compatible stores (MinIO, Ceph…) behind a custom endpoint usually want path-style URLs.
    forcePathStyle: own.S3_FORCE_PATH_STYLE ?? own.S3_ENDPOINT !== undefined,
    credentials:
      own.S3_ACCESS_KEY_ID && own.S3_SECRET_ACCESS_KEY ? { accessKeyId: own.S3_ACCESS_KEY_ID, secretAccessKey: own.S3_SECRET_ACCESS_KEY } : undefined,
  };
}
