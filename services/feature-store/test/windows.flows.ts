// Windowed aggregations over data that arrives in several dataset versions, through the public
// REST surface on real Postgres, Kafka and chDB: increments (a stream micro-batched into
// versions), overlapping snapshots (a file rewritten and ingested again), rematerialization, the
// online row, and a property test against a naive reference. Run once per dataset access mode.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, freePort, testInfra, uniqueName } from '@loopline/testing';
import type { DatasetAccess } from '../src/application/ports';
import { clickHouseTime, seededRandom, tripsStructure } from './fixtures';
import { queryRows, rest, startFeatureStore, type DatasetVersion, type FeatureStoreUnderTest } from './harness';

interface Trip {
  readonly ms: number;
  readonly origin: string;
  readonly delay: number | null;
}

const hour = 3_600_000;
const start = Date.UTC(2024, 4, 1, 8);
const features = ['last_delay', 'flights_2h', 'delayed_2h', 'sum_delay_2h', 'mean_delay_2h', 'min_delay_2h', 'max_delay_30m'] as const;

/** A view over `source` with a windowed aggregation of each kind (two window lengths). */
function viewYaml(name: string, source: string): string {
  return `
  - name: ${name}
    entities: [origin]
    source: ${source}
    timestamp_column: date
    features:
      - name: last_delay
        expression: delay
        type: int64
      - name: flights_2h
        aggregate: count
        window: 2h
      - name: delayed_2h
        aggregate: count
        expression: if(delay > 15, 1, null)
        window: 2h
      - name: sum_delay_2h
        aggregate: sum
        expression: delay
        window: 2h
      - name: mean_delay_2h
        aggregate: mean
        expression: delay
        window: 2h
      - name: min_delay_2h
        aggregate: min
        expression: delay
        window: 2h
      - name: max_delay_30m
        aggregate: max
        expression: delay
        window: 30m
`;
}

function definitions(views: readonly (readonly [name: string, source: string])[]): string {
  return `entities:\n  - name: origin\n    join_keys: [origin]\nfeature_views:${views.map(([name, source]) => viewYaml(name, source)).join('')}`;
}

type FeatureRowValues = Record<(typeof features)[number], number | null>;

/** The naive reference: the features of each (origin, time) of `own`, windows over `visible` (every row once per occurrence). */
function reference(own: readonly Trip[], visible: readonly Trip[]): Map<string, FeatureRowValues> {
  const expected = new Map<string, FeatureRowValues>();
  for (const row of own) {
    const window = (ms: number) => visible.filter((other) => other.origin === row.origin && other.ms >= row.ms - ms && other.ms < row.ms);
    const values = (ms: number) => window(ms).flatMap((other) => (other.delay === null ? [] : [other.delay]));
    const twoHours = values(2 * hour);
    const halfHour = values(hour / 2);
    expected.set(`${row.origin}@${row.ms}`, {
      last_delay: row.delay,
      flights_2h: window(2 * hour).length,
      delayed_2h: twoHours.filter((delay) => delay > 15).length,
      sum_delay_2h: twoHours.reduce((sum, delay) => sum + delay, 0),
      mean_delay_2h: twoHours.length === 0 ? null : twoHours.reduce((sum, delay) => sum + delay, 0) / twoHours.length,
      min_delay_2h: twoHours.length === 0 ? null : Math.min(...twoHours),
      max_delay_30m: halfHour.length === 0 ? null : Math.max(...halfHour),
    });
  }
  return expected;
}

/** The multiset union of versions: each distinct row with its largest multiplicity in any one of them. */
function unionOf(versions: readonly (readonly Trip[])[]): Trip[] {
  const most = new Map<string, { row: Trip; count: number }>();
  for (const rows of versions) {
    const counts = new Map<string, { row: Trip; count: number }>();
    for (const row of rows) {
      const key = JSON.stringify(row);
      counts.set(key, { row, count: (counts.get(key)?.count ?? 0) + 1 });
    }
    for (const [key, entry] of counts) if ((most.get(key)?.count ?? 0) < entry.count) most.set(key, entry);
  }
  return [...most.values()].flatMap(({ row, count }) => Array.from({ length: count }, () => row));
}

export function describeWindows(datasetAccess: DatasetAccess): void {
  describe(`Windowed features across dataset versions (datasets: ${datasetAccess})`, () => {
    let store: FeatureStoreUnderTest;
    let names = 0;

    const apply = async (views: readonly (readonly [string, string])[]) => {
      const response = await rest(store.baseUrl, 'POST', '/v1/definitions/apply', { file: definitions(views), fileName: 'windows.yaml' });
      assert.equal(response.status, 200, JSON.stringify(response.body));
    };
    const materialize = async (view: string, version: DatasetVersion) => {
      const response = await rest(store.baseUrl, 'POST', '/v1/materializations', { view, datasetVersionId: version.versionId });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      return response.body as { id: string; offlineRowCount: number; onlineRowCount: number };
    };
    const ingest = async (source: string, rows: readonly Trip[]) =>
      store.ingestion.add(
        source,
        await store.writeParquet(
          `${source}-${(names += 1)}`,
          tripsStructure.replace('delay Int32', 'delay Nullable(Int32)'),
          rows.map((row) => ({ date: clickHouseTime(row.ms), origin: row.origin, destination: 'X', delay: row.delay, distance: 1 })),
        ),
      );
    /** The view's offline rows (one partition, or all of them), keyed `origin@ms`, in table order. */
    const offline = async (view: string, version?: DatasetVersion) => {
      const where = version ? `WHERE dataset_version_id = '${version.versionId}'` : `WHERE dataset_version_id != 'push'`;
      const result = await store.clickhouse.query({
        query: `SELECT origin, toUnixTimestamp64Milli(event_time) AS ms, ${features.join(', ')} FROM loopline_feature_store.\`fv_${view}__v1\` ${where} ORDER BY origin, event_time, dataset_version_id`,
        format: 'JSONEachRow',
        clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
      });
      const rows = await result.json<Record<string, number | string | null> & { origin: string; ms: number }>();
      return new Map(rows.map(({ origin, ms, ...values }) => [`${origin}@${ms}`, values as FeatureRowValues]));
    };
    const assertRows = (actual: Map<string, FeatureRowValues>, expected: Map<string, FeatureRowValues>, what: string) => {
      assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort(), `${what}: the (origin, time) rows`);
      for (const [key, wanted] of expected) {
        const got = actual.get(key)!;
        for (const feature of features) {
          const [a, b] = [got[feature], wanted[feature]];
          if (typeof a === 'number' && typeof b === 'number') assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${key} ${feature} ${a} vs ${b}`);
          else assert.equal(a, b, `${what}: ${key} ${feature}`);
        }
      }
    };
    const sql = <T>(text: string, values: unknown[] = []) => queryRows<T>(store.postgresUrl, text, values);

    before(async () => {
      const infra = testInfra();
      store = await startFeatureStore({
        postgresUrl: await createTestDatabase('feature_store'),
        kafkaBrokers: infra.kafkaBrokers,
        dataDir: join(infra.dataDir, uniqueName('feature_store_windows')),
        grpcPort: await freePort(),
        datasetAccess,
        env: { LOOPLINE_FEATURE_STORE_ONLINE_SERVER: 'false' },
      });
    });

    after(async () => {
      await store?.stop();
    });

    describe('when a stream arrives as increments', () => {
      const at = (minutes: number) => start + minutes * 60_000;
      const first: Trip[] = [
        { ms: at(0), origin: 'A', delay: 10 },
        { ms: at(30), origin: 'A', delay: 20 },
        { ms: at(60), origin: 'A', delay: 40 },
        { ms: at(15), origin: 'B', delay: 5 },
      ];
      const second: Trip[] = [
        { ms: at(70), origin: 'A', delay: 30 }, // the start of the micro-batch: A's three rows before it count
        { ms: at(150), origin: 'A', delay: 0 },
        { ms: at(60), origin: 'B', delay: null },
        { ms: at(90), origin: 'C', delay: 16 },
      ];
      let v1: DatasetVersion;
      let v2: DatasetVersion;

      before(async () => {
        await apply([
          ['inc_stats', 'inc_trips'],
          ['inc_union', 'inc_trips_union'],
        ]);
        v1 = await ingest('inc_trips', first);
        v2 = await ingest('inc_trips', second);
        await materialize('inc_stats', v1);
        await materialize('inc_stats', v2);
        await materialize('inc_union', await ingest('inc_trips_union', [...first, ...second]));
      });

      it('counts the rows of the earlier version in the windows at the start of the next', async () => {
        const rows = await offline('inc_stats', v2);
        assert.deepEqual(rows.get(`A@${at(70)}`), { last_delay: 30, flights_2h: 3, delayed_2h: 2, sum_delay_2h: 70, mean_delay_2h: 70 / 3, min_delay_2h: 10, max_delay_30m: 40 });
        // B's earlier row has a delay; the NULL delay of its own row is no value, but a flight.
        assert.deepEqual(rows.get(`B@${at(60)}`), { last_delay: null, flights_2h: 1, delayed_2h: 0, sum_delay_2h: 5, mean_delay_2h: 5, min_delay_2h: 5, max_delay_30m: null });
        assertRows(rows, reference(second, [...first, ...second]), 'version 2');
      });

      it('gives the rows of materializing the union as one version', async () => {
        assertRows(await offline('inc_stats'), await offline('inc_union'), 'increments vs union');
      });

      it('records the materialization order with the source rows', async () => {
        const result = await store.clickhouse.query({
          query: `SELECT dataset_version_id AS id, min(materialization_sequence) AS sequence, count() AS n FROM loopline_feature_store.src_inc_stats__v1 GROUP BY id ORDER BY sequence`,
          format: 'JSONEachRow',
          clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
        });
        assert.deepEqual(await result.json(), [
          { id: v1.versionId, sequence: 1, n: 4 },
          { id: v2.versionId, sequence: 2, n: 4 },
        ]);
      });

      it('serves the latest row online with windows over both versions', async () => {
        const response = await rest(store.baseUrl, 'POST', '/v1/online-features', { features: ['inc_stats:flights_2h', 'inc_stats:sum_delay_2h', 'inc_stats:last_delay'], entities: { origin: ['A', 'B'] } });
        assert.equal(response.status, 200, JSON.stringify(response.body));
        // A at 150 min: 30 and 60 (version 1) and 70 (version 2) in [30, 150); B at 60 min: its 15-minute row of version 1.
        assert.deepEqual(
          response.body.results.map((result: { values: unknown[] }) => result.values),
          [
            [3, 1],
            [90, 5],
            [0, null],
          ],
        );
        assert.deepEqual(response.body.results[0].eventTimestamps, [new Date(at(150)).toISOString(), new Date(at(60)).toISOString()]);
      });

      it('rematerializes a version with identical rows, reading only the versions before it', async () => {
        const before = await offline('inc_stats', v2);
        // A late row of A, in version 2's windows by time, but materialized after it.
        const late = await ingest('inc_trips', [{ ms: at(65), origin: 'A', delay: 99 }]);
        await materialize('inc_stats', late);
        await sql(`DELETE FROM feature_store.materializations WHERE view_name = 'inc_stats' AND dataset_version_id = $1`, [v2.versionId]);
        const again = await materialize('inc_stats', v2);
        assert.equal(again.offlineRowCount, 4);
        assert.deepEqual(await offline('inc_stats', v2), before);
        // The late version's own row sees both earlier versions.
        assert.deepEqual((await offline('inc_stats', late)).get(`A@${at(65)}`)?.flights_2h, 3);
      });
    });

    describe('when a file is rewritten and ingested as overlapping snapshots', () => {
      const day = 24 * hour;
      const at = (days: number, minutes: number) => start + days * day + minutes * 60_000;
      // Two identical flights (same airport, minute and delay): a repeated row, twice in each snapshot.
      const twin = { ms: at(1, 30), origin: 'A', delay: 25 };
      const dayOne: Trip[] = [
        { ms: at(0, 0), origin: 'A', delay: 1 },
        { ms: at(0, 60), origin: 'A', delay: 2 },
      ];
      const dayTwo: Trip[] = [{ ms: at(1, 0), origin: 'A', delay: 3 }, twin, twin, { ms: at(1, 100), origin: 'A', delay: 4 }, { ms: at(1, 45), origin: 'B', delay: 50 }];
      const dayThree: Trip[] = [
        { ms: at(2, 0), origin: 'A', delay: 5 },
        { ms: at(1, 110), origin: 'B', delay: 7 },
      ];
      let s1: DatasetVersion;
      let s2: DatasetVersion;

      before(async () => {
        await apply([
          ['snap_stats', 'snap_trips'],
          ['snap_union', 'snap_trips_union'],
        ]);
        // Each file holds the latest two days; the second repeats the first's last day.
        s1 = await ingest('snap_trips', [...dayOne, ...dayTwo]);
        s2 = await ingest('snap_trips', [...dayTwo.slice().reverse(), ...dayThree]);
        await materialize('snap_stats', s1);
        await materialize('snap_stats', s2);
        await materialize('snap_union', await ingest('snap_trips_union', [...dayOne, ...dayTwo, ...dayThree]));
      });

      it('counts a row present in both snapshots once, and a repeated row as often as one snapshot has it', async () => {
        const rows = await offline('snap_stats', s2);
        // At 1 day 100 min: 3 (1 day 0 min) and the twins (1 day 30 min) in the 2 h before it.
        assert.equal(rows.get(`A@${at(1, 100)}`)?.flights_2h, 3);
        assert.equal(rows.get(`B@${at(1, 110)}`)?.flights_2h, 1);
        assertRows(rows, reference(unionOf([[...dayTwo, ...dayThree]]), unionOf([[...dayOne, ...dayTwo], [...dayTwo, ...dayThree]])), 'snapshot 2');
      });

      it('gives the rows of materializing the union without duplicates as one version', async () => {
        const union = await offline('snap_union');
        const second = await offline('snap_stats', s2);
        assertRows(second, new Map([...union].filter(([key]) => second.has(key))), 'snapshot 2 vs union');
        assertRows(await offline('snap_stats', s1), new Map([...union].filter(([key]) => key !== `A@${at(2, 0)}` && key !== `B@${at(1, 110)}`)), 'snapshot 1 vs union');
      });
    });

    describe('when a version cannot be materialized', () => {
      it('leaves no source rows of it behind, so later windows do not count them', async () => {
        await apply([['failing_stats', 'failing_trips']]);
        const good = await ingest('failing_trips', [{ ms: start, origin: 'A', delay: 1 }]);
        await materialize('failing_stats', good);
        const mistyped = await store.ingestion.add(
          'failing_trips',
          await store.writeParquet('failing-mistyped', tripsStructure.replace('delay Int32', 'delay String'), [{ date: clickHouseTime(start + 60_000), origin: 'A', destination: 'X', delay: 'late', distance: 1 }]),
        );
        const response = await rest(store.baseUrl, 'POST', '/v1/materializations', { view: 'failing_stats', datasetVersionId: mistyped.versionId });
        assert.equal(response.status, 400, JSON.stringify(response.body));
        const result = await store.clickhouse.query({
          query: `SELECT DISTINCT dataset_version_id AS id FROM loopline_feature_store.src_failing_stats__v1`,
          format: 'JSONEachRow',
        });
        assert.deepEqual(await result.json(), [{ id: good.versionId }]);
        const stages = await store.clickhouse.query({ query: `SELECT count() AS n FROM system.tables WHERE database = 'loopline_feature_store' AND name LIKE 'stage\\_%'`, format: 'JSONEachRow' });
        assert.equal(Number((await stages.json<{ n: string }>())[0]!.n), 0);
      });
    });

    describe('when versions mix increments and snapshots at random', () => {
      it('matches a naive reference over every version materialized so far', async () => {
        const random = seededRandom(20240501);
        const origins = ['P', 'Q', 'R'];
        const used = new Set<string>();
        const trips: Trip[] = [];
        while (trips.length < 150) {
          const row = { ms: start + Math.floor(random() * 12 * 4) * 15 * 60_000, origin: origins[Math.floor(random() * 3)]!, delay: random() < 0.1 ? null : Math.floor(random() * 60) - 10 };
          // One row per (origin, time), except exact repeats (the same flight twice).
          if (used.has(`${row.origin}@${row.ms}`)) continue;
          used.add(`${row.origin}@${row.ms}`);
          trips.push(row);
          if (random() < 0.1) trips.push(row);
        }
        trips.sort((a, b) => a.ms - b.ms);
        // Versions: consecutive slices (increments), some widened back into the previous slice (snapshots).
        const versions: Trip[][] = [];
        let from = 0;
        while (from < trips.length) {
          const to = Math.min(trips.length, from + 10 + Math.floor(random() * 30));
          const back = random() < 0.5 ? Math.floor(random() * 20) : 0;
          versions.push(trips.slice(Math.max(0, from - back), to));
          from = to;
        }
        await apply([['random_windows', 'random_window_trips']]);
        const materialized: Trip[][] = [];
        for (const rows of versions) {
          const version = await ingest('random_window_trips', rows);
          await materialize('random_windows', version);
          materialized.push(rows);
          assertRows(await offline('random_windows', version), reference(unionOf([rows]), unionOf(materialized)), `version ${materialized.length} of ${versions.length}`);
        }
      });
    });
  });
}
