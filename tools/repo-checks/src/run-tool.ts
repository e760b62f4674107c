import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

export const repositoryRoot = resolve(__dirname, '..', '..', '..');

export interface ToolResult {
  readonly status: number | null;
  readonly output: string;
  readonly missing: boolean;
}

/** Runs a command at the repository root and returns its exit status and combined output. */
export function runTool(command: string, args: readonly string[]): ToolResult {
  const result = spawnSync(command, [...args], {
    cwd: repositoryRoot,
    encoding: 'utf8',
    env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
    maxBuffer: 64 * 1024 * 1024,
  });
  const missing = (result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
  return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}`, missing };
}
