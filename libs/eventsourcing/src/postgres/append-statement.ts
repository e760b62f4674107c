import { createHash } from 'node:crypto';
import type { NewEvent } from '../events/event';
import type { ExpectedVersion } from '../events/expected-version';
import type { OutboxColumns } from '../outbox/outbox-message';
import { qualified } from './sql';

/** Positional parameters, each cast at the point of use so Postgres never has to guess a type. */
class Parameters {
  readonly values: unknown[] = [];
  add(value: unknown, type: string): string {
    this.values.push(value);
    return `$${this.values.length}::${type}`;
  }
}

export interface AppendStatementInput {
  readonly schema: string;
  readonly streamId: string;
  readonly streamType: string;
  readonly expectedVersion: ExpectedVersion;
  readonly events: readonly NewEvent[];
  readonly outbox: OutboxColumns | undefined;
  /** Channel to `pg_notify` when outbox rows are written (delivered at commit); none when undefined. */
  readonly notifyChannel: string | undefined;
}

const statementNames = new Map<string, string>();

/**
 * A named (prepared) statement is parsed and planned once per connection. The text only varies
 * with the schema, the kind of expectation, and whether there is an outbox, so few names exist.
 */
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `loopline_append_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;
    statementNames.set(text, name);
  }
  return name;
}

/**
 * One statement per append: the stream row, the events and the outbox rows are written by
 * data-modifying CTEs, so an append is a single round trip and atomic without BEGIN/COMMIT.
 *
 * Optimistic concurrency is the `stream` CTE: it yields a row only if the stream is where the
 * caller expected (UPDATE ... WHERE version = expected, or INSERT ... ON CONFLICT DO NOTHING for
 * a new stream). No row → nothing is inserted and the statement returns no rows. The row lock the
 * UPDATE takes serialises writers of one stream until commit; the unique (stream_id,
 * stream_position) constraint is the backstop.
 */
export function appendStatement(input: AppendStatementInput): { name: string; text: string; values: unknown[] } {
  const p = new Parameters();
  const streams = qualified(input.schema, 'streams');
  const events = qualified(input.schema, 'events');
  const outbox = qualified(input.schema, 'outbox');
  const streamId = p.add(input.streamId, 'text');
  const count = p.add(input.events.length, 'bigint');

  let stream: string;
  const expected = input.expectedVersion;
  if (expected === 'any') {
    stream = `INSERT INTO ${streams} AS s (stream_id, stream_type, version) VALUES (${streamId}, ${p.add(input.streamType, 'text')}, ${count})
      ON CONFLICT (stream_id) DO UPDATE SET version = s.version + excluded.version, updated_at = now()
      RETURNING s.version - ${count} AS previous_version`;
  } else if (expected === 'no_stream' || expected === 0) {
    stream = `INSERT INTO ${streams} (stream_id, stream_type, version) VALUES (${streamId}, ${p.add(input.streamType, 'text')}, ${count})
      ON CONFLICT (stream_id) DO NOTHING
      RETURNING 0::bigint AS previous_version`;
  } else {
    stream = `UPDATE ${streams} SET version = version + ${count}, updated_at = now()
      WHERE stream_id = ${streamId} AND version = ${p.add(expected, 'bigint')}
      RETURNING version - ${count} AS previous_version`;
  }

  // ORDER BY ordinal makes the global positions (nextval, evaluated per row as rows arrive)
  // increase with the stream positions.
  const appended = `INSERT INTO ${events} (stream_id, stream_position, event_id, event_type, data, metadata)
    SELECT ${streamId}, stream.previous_version + e.ordinal, e.event_id, e.event_type, e.data, e.metadata
    FROM stream, unnest(${p.add(input.events.map((event) => event.eventId), 'uuid[]')}, ${p.add(input.events.map((event) => event.type), 'text[]')},
                        ${p.add(input.events.map((event) => JSON.stringify(event.data)), 'jsonb[]')}, ${p.add(input.events.map((event) => JSON.stringify(event.metadata)), 'jsonb[]')})
         WITH ORDINALITY AS e(event_id, event_type, data, metadata, ordinal)
    ORDER BY e.ordinal
    RETURNING global_position, stream_position, event_id`;

  const ctes = [`stream AS (${stream})`, `appended AS (${appended})`];
  let notify = '';
  if (input.outbox && input.outbox.topics.length > 0) {
    const o = input.outbox;
    ctes.push(`outboxed AS (INSERT INTO ${outbox} (event_id, topic, key, value, headers)
      SELECT m.event_id, m.topic, m.key, m.value, m.headers
      FROM unnest(${p.add(o.eventIds, 'uuid[]')}, ${p.add(o.topics, 'text[]')}, ${p.add(o.keys, 'text[]')}, ${p.add(o.values, 'bytea[]')}, ${p.add(o.headers, 'jsonb[]')})
           WITH ORDINALITY AS m(event_id, topic, key, value, headers, ordinal)
      WHERE EXISTS (SELECT 1 FROM stream)
      ORDER BY m.ordinal
      RETURNING 1)`);
    if (input.notifyChannel !== undefined) {
      // A plain CTE runs only if referenced: the scalar subquery below references it once.
      ctes.push(`notified AS (SELECT pg_notify(${p.add(input.notifyChannel, 'text')}, '') WHERE EXISTS (SELECT 1 FROM stream))`);
      notify = ', (SELECT count(*) FROM notified) AS notified';
    }
  }
  const text = `WITH ${ctes.join(',\n')}\nSELECT global_position, stream_position, event_id${notify} FROM appended`;
  return { name: statementName(text), text, values: p.values };
}
