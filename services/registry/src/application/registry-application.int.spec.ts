/**
 * The application layer on the real PostgreSQL of the test run (event store in schema
 * `registry`, outbox, projection): concurrent writers on one model stay consistent, retried
 * registrations register once, every published event has its outbox row. Real: Postgres and
 * @loopline/eventsourcing. Stand-ins: artifacts are already "stored" (no ONNX here), no Kafka.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Pool } from 'pg';
import pino from 'pino';
import { ConcurrencyError, NotFoundError } from '@loopline/errors';
import { createTestDatabase, eventually } from '@loopline/testing';
import { outboxMessages } from '../adapters/kafka/registry-event-messages';
import { PostgresRegistryStorage } from '../adapters/postgres/postgres-registry-storage';
import type { ModelLineage } from '../domain/registered-model/registered-model';
import { RegistryApplication, type RegisterVersionInput } from './registry-application';

const lineage: ModelLineage = {
  trainingRunId: '',
  pipelineRunId: '',
  experimentName: '',
  trainingSetId: '',
  datasetVersionIds: [],
  featureViews: [],
  trainerName: '',
  trainerVersion: '',
  codeCommit: '',
};

function versionInput(seed: number, idempotencyKey: string | null = null): RegisterVersionInput {
  const sha256 = seed.toString(16).padStart(64, '0');
  return {
    artifact: { sha256, sizeBytes: 100 + seed, uri: `artifact://registry/sha256/${sha256}` },
    signature: { inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }] },
    metrics: { auc: 0.5 + seed / 1000 },
    params: {},
    tags: {},
    description: '',
    lineage,
    referenceProfile: null,
    idempotencyKey,
  };
}

describe('RegistryApplication on PostgreSQL', () => {
  let pool: Pool;
  let storage: PostgresRegistryStorage;
  let registry: RegistryApplication;
  const alice = { actor: 'user:alice' };

  before(async () => {
    pool = new Pool({ connectionString: await createTestDatabase('registry_app'), max: 30 });
    storage = new PostgresRegistryStorage(pool, pino({ level: 'silent' }), { projectionPollMs: 20 });
    registry = new RegistryApplication({ storage, clock: { now: () => new Date() }, ids: { newId: randomUUID }, toOutbox: outboxMessages });
  });

  after(async () => {
    await storage?.stop();
    await pool?.end();
  });

  describe('when many writers register versions of one model at once', () => {
    it('numbers them 1..N without gaps or duplicates', async () => {
      await registry.createModel({ name: 'busy', description: '', owner: '', tags: {} }, alice);
      const writers = 12;
      const outcomes = await Promise.allSettled(Array.from({ length: writers }, (_, index) => registry.registerVersion('busy', versionInput(index + 1), alice)));
      const versions = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value.version] : []));
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') assert.ok(outcome.reason instanceof ConcurrencyError, `only typed conflicts, got ${String(outcome.reason)}`);
      }
      assert.ok(versions.length >= 1);
      const model = await registry.getModel('busy');
      assert.deepEqual(
        model.versions.map((version) => version.version),
        Array.from({ length: versions.length }, (_, index) => index + 1),
      );
      assert.deepEqual([...versions].sort((a, b) => a - b), model.versions.map((version) => version.version));
    });
  });

  describe('when many writers move one alias at once', () => {
    it('keeps the chain of moves consistent: each move names the version the previous one set', async () => {
      await registry.createModel({ name: 'contended', description: '', owner: '', tags: {} }, alice);
      for (let seed = 1; seed <= 3; seed += 1) await registry.registerVersion('contended', versionInput(seed), alice);
      const moves = Array.from({ length: 24 }, (_, index) => (index % 3) + 1);
      const outcomes = await Promise.allSettled(moves.map((version) => registry.setAlias('contended', 'champion', version, 'race', alice)));
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected') assert.ok(outcome.reason instanceof ConcurrencyError, `only typed conflicts, got ${String(outcome.reason)}`);
      }
      const history = await registry.history('contended');
      assert.deepEqual(history.map((event) => event.streamPosition), history.map((_, index) => index + 1), 'positions contiguous');
      let current: number | null = null;
      for (const event of history) {
        if (event.type !== 'ModelVersionAliasSet') continue;
        assert.equal(event.data.previousVersion, current, 'a move names the version its predecessor set');
        assert.notEqual(event.data.version, current, 'no move to where the alias already was');
        current = event.data.version;
      }
      assert.equal((await registry.getModel('contended')).aliases.champion, current);
    });
  });

  describe('when a registration is retried with its idempotency key', () => {
    it('registers once, even when the retries race', async () => {
      await registry.createModel({ name: 'retried', description: '', owner: '', tags: {} }, alice);
      const attempts = await Promise.all([1, 2, 3].map(() => registry.registerVersion('retried', versionInput(7, 'upload-7'), alice)));
      assert.deepEqual(attempts.map((attempt) => attempt.version), [1, 1, 1]);
      const again = await registry.registerVersion('retried', versionInput(7, 'upload-7'), alice);
      assert.equal(again.version, 1);
      assert.equal((await registry.getModel('retried')).versions.length, 1);
    });
  });

  describe('outbox and read models', () => {
    it('writes one outbox row per published event, carrying the event id', async () => {
      const { rows } = await pool.query<{ event_id: string; topic: string; key: string; headers: Record<string, string> }>(
        `SELECT o.event_id, o.topic, o.key, o.headers FROM registry.outbox o JOIN registry.events e USING (event_id) WHERE e.stream_id = 'registered_model-retried' ORDER BY o.position`,
      );
      assert.deepEqual(rows.map((row) => [row.topic, row.key]), [
        ['loopline.registry.model-versions.v1', 'retried'],
        ['loopline.registry.model-versions.v1', 'retried'],
      ]);
      for (const row of rows) assert.equal(row.headers.ce_id, row.event_id);
      assert.equal(rows[1]?.headers.ce_type, 'loopline.registry.v1.ModelVersionRegistered');
    });

    it('lists every model once the projection caught up', async () => {
      const names = await eventually(async () => {
        const listed = (await registry.listModels()).map((summary) => summary.name);
        if (listed.length !== 3) throw new Error(`listed ${listed.join(', ')}`);
        return listed;
      });
      assert.deepEqual(names, ['busy', 'contended', 'retried']);
      const contended = (await registry.listModels()).find((summary) => summary.name === 'contended');
      assert.equal(contended?.latestVersion, 3);
    });

    it('answers NotFound for a model that does not exist', async () => {
      await assert.rejects(registry.getModel('ghost'), NotFoundError);
      await assert.rejects(registry.history('ghost'), NotFoundError);
    });
  });
});
