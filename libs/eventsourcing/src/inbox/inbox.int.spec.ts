import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { PoolClient } from 'pg';
import { createTestDatabase } from '@loopline/testing';
import { createStoreFixture, incremented, type StoreFixture } from '../../test/fixtures';
import { Inbox } from './inbox';

// Real PostgreSQL: one database for this file, a consumer group and an effects table per test.
describe('Inbox', () => {
  let fixture: StoreFixture;
  const inbox = new Inbox();
  before(async () => {
    fixture = await createStoreFixture(await createTestDatabase('es_inbox'), { poolSize: 12 });
  });
  after(() => fixture.close());

  async function effectsTable(): Promise<string> {
    const table = `effects_${randomUUID().replace(/-/g, '')}`;
    await fixture.pool.query(`CREATE TABLE ${table} (event_id text NOT NULL)`); // no unique key: duplicates would show
    return table;
  }

  describe('when the same event is delivered twice', () => {
    it('applies the effect once and reports the second delivery as a duplicate', async () => {
      const table = await effectsTable();
      const eventId = randomUUID();
      const effect = async (tx: PoolClient) => {
        await tx.query(`INSERT INTO ${table} (event_id) VALUES ($1)`, [eventId]);
        return 'applied';
      };
      assert.deepEqual(await inbox.handleOnce(fixture.pool, 'group-a', eventId, effect), { status: 'processed', result: 'applied' });
      assert.deepEqual(await inbox.handleOnce(fixture.pool, 'group-a', eventId, effect), { status: 'duplicate' });
      const { rows } = await fixture.pool.query(`SELECT count(*)::int AS n FROM ${table}`);
      assert.equal(rows[0].n, 1);
    });

    it('still applies it once for each other consumer group', async () => {
      const table = await effectsTable();
      const eventId = randomUUID();
      for (const group of ['group-a', 'group-b', 'group-a']) {
        await inbox.handleOnce(fixture.pool, group, eventId, (tx) => tx.query(`INSERT INTO ${table} VALUES ($1)`, [group]));
      }
      const { rows } = await fixture.pool.query(`SELECT event_id AS grp FROM ${table} ORDER BY 1`);
      assert.deepEqual(rows.map((row) => row.grp), ['group-a', 'group-b']);
    });
  });

  describe('when ten deliveries of one event race', () => {
    it('lets exactly one apply the effect', async () => {
      const table = await effectsTable();
      const eventId = randomUUID();
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, () =>
          inbox.handleOnce(fixture.pool, 'racers', eventId, async (tx) => {
            await tx.query(`INSERT INTO ${table} VALUES ($1)`, [eventId]);
            await tx.query('SELECT pg_sleep(0.05)'); // widen the window in which the others arrive
          }),
        ),
      );
      assert.equal(outcomes.filter((outcome) => outcome.status === 'processed').length, 1);
      const { rows } = await fixture.pool.query(`SELECT count(*)::int AS n FROM ${table}`);
      assert.equal(rows[0].n, 1);
    });
  });

  describe('when the effect fails', () => {
    it('records nothing, so the redelivery applies it', async () => {
      const table = await effectsTable();
      const eventId = randomUUID();
      await assert.rejects(
        inbox.handleOnce(fixture.pool, 'flaky', eventId, async (tx) => {
          await tx.query(`INSERT INTO ${table} VALUES ($1)`, [eventId]);
          throw new Error('downstream timeout');
        }),
        /downstream timeout/,
      );
      const retry = await inbox.handleOnce(fixture.pool, 'flaky', eventId, (tx) => tx.query(`INSERT INTO ${table} VALUES ($1)`, [eventId]));
      assert.equal(retry.status, 'processed');
      const { rows } = await fixture.pool.query(`SELECT count(*)::int AS n FROM ${table}`);
      assert.equal(rows[0].n, 1);
    });
  });

  describe('when given a client instead of the pool', () => {
    it('runs the transaction on that client and leaves it usable', async () => {
      const client = await fixture.pool.connect();
      try {
        const eventId = randomUUID();
        assert.equal((await inbox.handleOnce(client, 'client-group', eventId, async () => 1)).status, 'processed');
        assert.equal((await inbox.handleOnce(client, 'client-group', eventId, async () => 1)).status, 'duplicate');
        assert.equal((await client.query('SELECT 1 AS ok')).rows[0].ok, 1);
      } finally {
        client.release();
      }
    });
  });

  describe('when the effect appends to an event stream', () => {
    it('appends once per event even if the event comes twice', async () => {
      const streamId = `reaction-${randomUUID()}`;
      const triggeringEventId = randomUUID();
      const react = () =>
        inbox.handleOnce(fixture.pool, 'reactor', triggeringEventId, (tx) => fixture.store.appendToStream(streamId, [incremented(1)], { expectedVersion: 'any', transaction: tx }));
      assert.equal((await react()).status, 'processed');
      assert.equal((await react()).status, 'duplicate');
      assert.equal((await fixture.store.readStream(streamId)).version, 1);
    });
  });
});
