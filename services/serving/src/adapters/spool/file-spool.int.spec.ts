import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { SpoolRecord } from '../../application/prediction-log';
import { FileSpool } from './file-spool';

const folders: string[] = [];
after(() => folders.forEach((folder) => rmSync(folder, { recursive: true, force: true })));

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'loopline-spool-'));
  folders.push(dir);
  return dir;
}

const record = (...ids: string[]): SpoolRecord => ({
  firstAttemptAt: null,
  messages: ids.map((id) => ({ id, key: 'm', value: Buffer.from(`value of ${id}`), headers: { ce_id: id }, timestamp: '1' })),
});

describe('FileSpool (real files)', () => {
  it('keeps records in order across a reopen, and forgets acknowledged ones', async () => {
    const dir = folder();
    const spool = await FileSpool.open(dir, 1_000_000);
    await spool.append(record('a', 'b'));
    await spool.append({ ...record('c'), firstAttemptAt: 42 });
    await spool.ack();
    await spool.close();

    const reopened = await FileSpool.open(dir, 1_000_000);
    const head = await reopened.head();
    assert.deepEqual(head?.messages.map((message) => message.id), ['c']);
    assert.equal(head?.firstAttemptAt, 42);
    assert.equal(head?.messages[0].value.toString(), 'value of c');
    await reopened.ack();
    assert.equal(reopened.isEmpty, true);
    assert.equal(readFileSync(join(dir, 'predictions.spool')).length, 0);
    await reopened.close();
  });

  it('cuts off a torn record at the tail after a crash mid-write', async () => {
    const dir = folder();
    const spool = await FileSpool.open(dir, 1_000_000);
    await spool.append(record('a'));
    await spool.close();
    appendFileSync(join(dir, 'predictions.spool'), Buffer.from([200, 0, 0, 0, 1, 2, 3, 4, 123]));

    const reopened = await FileSpool.open(dir, 1_000_000);
    assert.deepEqual((await reopened.head())?.messages.map((message) => message.id), ['a']);
    await reopened.ack();
    assert.equal(reopened.isEmpty, true);
    await reopened.close();
  });

  it('refuses records past its size bound', async () => {
    const spool = await FileSpool.open(folder(), 300);
    assert.equal(await spool.append(record('a')), true);
    assert.equal(await spool.append(record('b', 'c', 'd')), false);
    await spool.close();
  });

  it('refuses a folder another live process owns', async () => {
    const dir = folder();
    const spool = await FileSpool.open(dir, 1_000);
    appendFileSync(join(dir, 'owner.pid'), '');
    rmSync(join(dir, 'owner.pid'));
    appendFileSync(join(dir, 'owner.pid'), String(process.ppid));
    await assert.rejects(FileSpool.open(dir, 1_000), /is in use by process/);
    await spool.close();
  });
});
