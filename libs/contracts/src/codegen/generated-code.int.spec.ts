// Generated code is committed; this fails when it no longer matches proto/ (a proto change without
// `npm run contracts:generate`) or when someone edited it by hand. It runs buf and the plugins,
// hence `.int`.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { repoRoot } from '../paths';
import { generateCode, generatedCodeDir } from './buf';

const stale = 'libs/contracts/src/gen is stale or was edited by hand: run `npm run contracts:generate` and commit the result';

describe('generated TypeScript', () => {
  const outputBase = mkdtempSync(path.join(tmpdir(), 'loopline-contracts-gen-'));
  after(() => rmSync(outputBase, { recursive: true, force: true }));

  it('is what buf generates from proto/ today', () => {
    generateCode(outputBase);
    const fresh = path.join(outputBase, generatedCodeDir);
    const committed = path.join(repoRoot, generatedCodeDir);
    assert.deepEqual(listFiles(committed), listFiles(fresh), stale);
    for (const file of listFiles(fresh)) {
      assert.ok(
        readFileSync(path.join(committed, file), 'utf8') === readFileSync(path.join(fresh, file), 'utf8'),
        `${file} differs: ${stale}`,
      );
    }
  });
});

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((entry) => {
      const relative = path.join(prefix, entry);
      return statSync(path.join(dir, entry)).isDirectory() ? listFiles(path.join(dir, entry), relative) : [relative];
    });
}
