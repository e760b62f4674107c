import assert from 'node:assert/strict';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { beforeEach, describe, it } from 'node:test';
import { IntegrityError, ValidationError } from '@loopline/errors';
import { LocalArtifactStore } from './local-artifact-store';
import { receivedFileOf, UploadArea } from './upload-area';

// Real: the local file system. Nothing else is involved.
describe('LocalArtifactStore', () => {
  let root: string;
  let store: LocalArtifactStore;
  let uploads: UploadArea;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'artifacts-'));
    store = new LocalArtifactStore(root, 'test');
    uploads = new UploadArea(root);
  });

  describe('when a file is uploaded and stored', () => {
    it('addresses it by its sha256 and reads it back verified', async () => {
      const received = await uploads.receive(Readable.from([Buffer.from('hello '), Buffer.from('world')]), { maxBytes: 100, what: 'artifact' });
      assert.equal(received.sha256, 'b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9');
      const blob = await store.put(received);
      assert.equal(blob.uri, `artifact://test/sha256/${received.sha256}`);
      assert.equal(await store.has(received.sha256), true);
      assert.equal(await text(await store.read(blob)), 'hello world');
      assert.deepEqual(await readdir(uploads.incoming), [], 'the upload left nothing behind');
    });

    it('stores identical bytes once', async () => {
      const first = await store.put(await uploads.receive(Readable.from([Buffer.from('same')]), { maxBytes: 100, what: 'a' }));
      const second = await store.put(await uploads.receive(Readable.from([Buffer.from('same')]), { maxBytes: 100, what: 'a' }));
      assert.deepEqual(first, second);
      assert.deepEqual(await readdir(join(root, 'sha256', first.sha256.slice(0, 2))), [first.sha256]);
    });

    it('adopts a file the service wrote itself', async () => {
      const path = await uploads.temporaryPath();
      await writeFile(path, 'written by a service');
      const blob = await store.put(await receivedFileOf(path));
      assert.equal(await text(await store.read(blob)), 'written by a service');
    });
  });

  describe('when stored bytes are damaged', () => {
    it('fails the read with IntegrityError instead of returning them whole', async () => {
      const blob = await store.put(await uploads.receive(Readable.from([Buffer.from('original bytes')]), { maxBytes: 100, what: 'a' }));
      await writeFile(store.blobPath(blob.sha256), 'tampered bytes');
      await assert.rejects(text(await store.read(blob)), IntegrityError);
    });

    it('reports a missing blob as IntegrityError', async () => {
      await assert.rejects(store.read({ sha256: 'a'.repeat(64), sizeBytes: 1 }), IntegrityError);
    });
  });

  describe('when an upload is refused', () => {
    it('rejects more bytes than allowed, naming what and the limit, and keeps nothing', async () => {
      await assert.rejects(uploads.receive(Readable.from([Buffer.alloc(64), Buffer.alloc(64)]), { maxBytes: 100, what: 'model artifact' }), (error: unknown) => {
        assert.ok(error instanceof ValidationError);
        assert.match(error.message, /model artifact is larger than the maximum of 100 bytes/);
        return true;
      });
      assert.deepEqual(await readdir(uploads.incoming), []);
    });

    it('rejects an empty upload', async () => {
      await assert.rejects(uploads.receive(Readable.from([]), { maxBytes: 100, what: 'dataset' }), /dataset is empty/);
    });

    it('never turns a non-digest into a path', () => {
      for (const name of ['../../etc/passwd', '%2e%2e%2f', 'a'.repeat(63), `${'a'.repeat(64)}\0`]) {
        assert.throws(() => store.blobPath(name), /not a SHA-256 digest/);
      }
    });
  });
});
