import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runTool } from './run-tool';

describe('the repository', () => {
  it('type-checks in strict mode, tests included', () => {
    const result = runTool(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json', '--noEmit']);
    assert.equal(result.status, 0, `tsc reported errors:\n${result.output}`);
  });

  it('passes lint, including the Nx module boundaries and the purity of domain/ folders', () => {
    // The boundaries rule reads Nx's cached project graph and silently skips itself without one.
    const graph = runTool(process.execPath, ['node_modules/nx/dist/bin/nx.js', 'show', 'projects']);
    assert.equal(graph.status, 0, `nx could not compute the project graph:\n${graph.output}`);
    const result = runTool(process.execPath, ['node_modules/eslint/bin/eslint.js', '.', '--max-warnings=0']);
    assert.equal(result.status, 0, `eslint reported problems:\n${result.output}`);
  });
});
