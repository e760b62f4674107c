import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '@loopline/errors';
import { normalizeStreamSettings, parseDurationMs } from './stream-settings';

describe('stream settings', () => {
  it('fills the defaults: 10,000 rows or one minute', () => {
    assert.deepEqual(normalizeStreamSettings({ topic: 'flights.rows' }), { topic: 'flights.rows', maxRows: 10_000, maxIntervalMs: 60_000 });
  });

  it('reads durations in ms, s, m and h', () => {
    assert.deepEqual([parseDurationMs('250ms', 'x'), parseDurationMs('30s', 'x'), parseDurationMs('1.5m', 'x'), parseDurationMs('2h', 'x')], [250, 30_000, 90_000, 7_200_000]);
  });

  it('names the field a bad value is in', () => {
    const cases: [Parameters<typeof normalizeStreamSettings>[0], string][] = [
      [{ topic: 'bad topic' }, 'topic'],
      [{ topic: '__consumer_offsets' }, 'topic'],
      [{ topic: 'loopline.ingestion.dataset-versions.v1' }, 'topic'],
      [{ topic: 'rows', maxRows: 0 }, 'maxRows'],
      [{ topic: 'rows', maxRows: 1.5 }, 'maxRows'],
      [{ topic: 'rows', maxInterval: 'soon' }, 'maxInterval'],
      [{ topic: 'rows', maxInterval: '2d' }, 'maxInterval'],
      [{ topic: 'rows', maxInterval: '25h' }, 'maxInterval'],
    ];
    for (const [input, field] of cases) {
      assert.throws(() => normalizeStreamSettings(input), (error: unknown) => error instanceof ValidationError && error.details.field === field, JSON.stringify(input));
    }
  });
});
