// Runs the buf CLI pinned in package.json (@bufbuild/buf) from the repository root, where
// proto/buf.gen.yaml expects to be run.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { repoRoot } from '../paths';

/** The generation template; its output paths are relative to the repository root. */
export const bufGenTemplate = path.join('proto', 'buf.gen.yaml');
/** Where generated code is committed, relative to the repository root. */
export const generatedCodeDir = path.join('libs', 'contracts', 'src', 'gen');

/** Output of one buf invocation. */
export interface BufResult {
  readonly status: number | null;
  readonly output: string;
}

export function runBuf(args: readonly string[]): BufResult {
  const result = spawnSync(path.join(repoRoot, 'node_modules', '.bin', 'buf'), args, { cwd: repoRoot, encoding: 'utf8' });
  if (result.error !== undefined) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

/**
 * Regenerates the TypeScript of proto/ into `generatedCodeDir`, or into `outputBase` +
 * `generatedCodeDir` when given (to compare with what is committed).
 */
export function generateCode(outputBase?: string): void {
  const result = runBuf(['generate', '--template', bufGenTemplate, ...(outputBase === undefined ? [] : ['-o', outputBase])]);
  if (result.status !== 0) throw new Error(`buf generate failed (exit ${String(result.status)}):\n${result.output}`);
}
