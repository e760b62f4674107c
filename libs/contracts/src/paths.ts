import * as path from 'node:path';

// Computed from this file's location rather than process.cwd(), so that services, scripts and
// tests find the same folders wherever they are started from.

/** Absolute path of the repository root. */
export const repoRoot = path.resolve(__dirname, '../../..');

/**
 * Absolute path of `proto/`, the buf module. Pass it as an include dir to @grpc/proto-loader,
 * e.g. `loadSync('loopline/registry/v1/registry_service.proto', { includeDirs: [protoRoot] })`.
 */
export const protoRoot = path.join(repoRoot, 'proto');
