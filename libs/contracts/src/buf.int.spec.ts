// buf's checks as tests, so that `npm test` enforces them like CI: the contracts lint clean, and a
// change never breaks a contract that was already committed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { runBuf } from './codegen/buf';
import { protoRoot, repoRoot } from './paths';

describe('proto/', () => {
  it('passes buf lint (STANDARD and COMMENTS)', () => {
    const result = runBuf(['lint', 'proto']);
    assert.equal(result.status, 0, `buf lint proto failed:\n${result.output}`);
  });

  it('fails buf lint when a field has no comment', () => {
    // Proves the lint configuration really enforces comments, which are the API documentation.
    const copy = mkdtempSync(path.join(tmpdir(), 'loopline-proto-'));
    try {
      cpSync(protoRoot, copy, { recursive: true });
      appendFileSync(path.join(copy, 'loopline', 'registry', 'v1', 'model_versions.proto'), '\n// Documented.\nmessage Probe {\n  string undocumented = 1;\n}\n');
      const result = runBuf(['lint', copy]);
      assert.notEqual(result.status, 0);
      assert.match(result.output, /Field "undocumented" should have a non-empty comment/);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('breaks no contract of the base commit (buf breaking, FILE)', (t) => {
    assert.equal(git(['rev-parse', '--verify', 'HEAD']).status, 0, 'the repository has no commit or git is unusable');
    // Uncommitted proto changes are checked against the last commit; once committed, the last
    // commit is checked against its parent.
    const base = workingTreeProtoEqualsHead() ? 'HEAD~1' : 'HEAD';
    if (git(['rev-parse', '--verify', '--quiet', `${base}^{commit}`]).status !== 0) {
      // Only acceptable when HEAD is the repository's first commit, not in a shallow clone.
      assert.equal(git(['rev-parse', '--is-shallow-repository']).stdout.trim(), 'false', 'shallow clone: fetch at least 2 commits');
      assert.equal(git(['rev-list', '--count', 'HEAD']).stdout.trim(), '1');
      t.skip('HEAD is the first commit: no earlier contract to break');
      return;
    }
    const listing = git(['ls-tree', '--name-only', base, '--', 'proto']);
    assert.equal(listing.status, 0, `git ls-tree ${base} failed`);
    if (listing.stdout.trim() === '') {
      // The only other reason to skip: before proto/ was first committed, there is nothing to break.
      t.skip(`base commit ${base} has no proto/ folder: no contract was published before it`);
      return;
    }
    const result = runBuf(['breaking', 'proto', '--against', `.git#ref=${base},subdir=proto`]);
    assert.equal(result.status, 0, `buf breaking against ${base} failed:\n${result.output}`);
  });
});

function git(args: readonly string[]): { status: number | null; stdout: string } {
  // No optional locks: `git status` must not touch the index while others commit.
  const result = spawnSync('git', args, { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' } });
  if (result.error !== undefined) throw result.error;
  return { status: result.status, stdout: result.stdout };
}

function workingTreeProtoEqualsHead(): boolean {
  const status = git(['status', '--porcelain', '--untracked-files=all', '--', 'proto']);
  assert.equal(status.status, 0, 'git status failed');
  return status.stdout.trim() === '';
}
