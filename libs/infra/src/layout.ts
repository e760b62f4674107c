import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Where the local platform keeps things. Everything of one installation lives under one data
 * folder (default `.loopline/` in the working directory); downloads shared by every installation
 * (the Kafka jars) live in the cache folder.
 */
export interface InfrastructureLayout {
  readonly root: string;
  readonly cacheDir: string;
  /** The folder of one component's data, created on first use. */
  component(name: string): string;
  pidFile(name: string): string;
  logFile(name: string): string;
}

export function infrastructureLayout(dataDir: string, cacheDir = defaultCacheDir()): InfrastructureLayout {
  const root = resolve(dataDir);
  return {
    root,
    cacheDir: resolve(cacheDir),
    component: (name) => {
      const dir = join(root, name);
      mkdirSync(dir, { recursive: true });
      return dir;
    },
    pidFile: (name) => join(root, 'run', `${name}.json`),
    logFile: (name) => join(root, 'logs', `${name}.log`),
  };
}

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.LOOPLINE_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'loopline');
}
