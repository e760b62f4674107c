import { context, propagation, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Pool } from 'pg';
import { ConcurrencyError, ValidationError } from '@loopline/errors';
import { foldEvents, type Evolver } from '../decider/decider';
import type { DomainEvent, EventDecoder, EventMetadata, EventPosition, NewEvent, RecordedEvent } from '../events/event';
import type {
  AggregateStreamResult,
  AppendOptions,
  AppendResult,
  EventStore,
  ReadAllOptions,
  ReadAllResult,
  ReadStreamOptions,
  ReadStreamResult,
} from '../events/event-store';
import { requiredVersion, type ExpectedVersion } from '../events/expected-version';
import { outboxColumns } from '../outbox/outbox-message';
import { classifyRetry, type RetryClassification, type StoredEventLocation } from './append-retry';
import { appendStatement } from './append-statement';
import { eventColumns, toRecordedEvent, type EventRow } from './event-rows';
import { migrateEventSourcingSchema } from './schema';
import { qualified, quoteIdentifier, sqlState, toSafeInteger, uniqueViolation, type Queryable } from './sql';
import { withSavepoint } from './transaction';

export interface PostgresEventStoreOptions {
  readonly pool: Pool;
  /** The schema this store owns (created by `migrate()`); default `public`. */
  readonly schema?: string;
  /**
   * `pg_notify` the outbox channel in every append that writes outbox rows, so a LISTENing relay
   * wakes at once instead of at its next poll. Off by default: NOTIFY takes a cluster-wide lock
   * at commit, which caps concurrent commit throughput.
   */
  readonly notifyOutbox?: boolean;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const tracer = trace.getTracer('@loopline/eventsourcing');

/** The LISTEN/NOTIFY channel that hints the outbox relay of one schema. */
export function outboxChannel(schema: string): string {
  return `loopline_outbox_${schema}`;
}

/**
 * The event store on PostgreSQL (raw SQL over `pg.Pool`, no ORM). Tables and guarantees:
 * docs/adr/0002-event-store-and-outbox.md.
 */
export class PostgresEventStore implements EventStore {
  readonly schema: string;
  private readonly pool: Pool;
  private readonly notifyChannel: string | undefined;
  private readonly tables: { streams: string; events: string };

  constructor(options: PostgresEventStoreOptions) {
    this.pool = options.pool;
    this.schema = options.schema ?? 'public';
    quoteIdentifier(this.schema, 'schema');
    this.notifyChannel = options.notifyOutbox ? outboxChannel(this.schema) : undefined;
    this.tables = { streams: qualified(this.schema, 'streams'), events: qualified(this.schema, 'events') };
  }

  /** Creates the schema's tables (streams, events, outbox, inbox, projection checkpoints) if missing. */
  migrate(): Promise<void> {
    return migrateEventSourcingSchema(this.pool, this.schema);
  }

  /**
   * Appends events atomically, with their outbox messages, if the stream is at `expectedVersion`.
   *
   * @throws ConcurrencyError the stream is not at the expected version (`details.expected`, `details.actual`);
   *   reload and decide again.
   * @throws ValidationError malformed input, or event ids that were partly appended already
   *   (`details.alreadyAppended`) or belong to another stream: not a retry of one append.
   */
  async appendToStream<E extends DomainEvent>(streamId: string, events: readonly NewEvent<E>[], options: AppendOptions): Promise<AppendResult> {
    const normalized = validateAppend(streamId, events, options.expectedVersion);
    return tracer.startActiveSpan('eventstore.append', { attributes: { 'loopline.stream_id': streamId, 'loopline.event_count': events.length } }, async (span) => {
      try {
        const result = await this.append(streamId, normalized, options);
        span.setAttribute('loopline.replayed', result.replayed);
        return result;
      } catch (error) {
        span.recordException(error instanceof Error ? error : String(error));
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    });
  }

  private async append(streamId: string, events: readonly NewEvent[], options: AppendOptions): Promise<AppendResult> {
    const statement = appendStatement({
      schema: this.schema,
      streamId,
      streamType: options.streamType ?? streamId.split('-')[0]!,
      expectedVersion: options.expectedVersion,
      events,
      outbox: options.outbox && options.outbox.length > 0 ? outboxColumns(options.outbox, events) : undefined,
      notifyChannel: this.notifyChannel,
    });
    const db: Queryable = options.transaction ?? this.pool;
    const run = () => db.query<{ global_position: string; stream_position: string; event_id: string }>(statement);
    let rows: { global_position: string; stream_position: string; event_id: string }[];
    try {
      // In the caller's transaction a unique violation would abort all of it; a savepoint contains it.
      rows = (options.transaction ? await withSavepoint(options.transaction, 'loopline_append', run) : await run()).rows;
    } catch (error) {
      const state = sqlState(error);
      if (state?.code !== uniqueViolation) throw error;
      // Another writer created the stream or took the position first, or these ids are stored already.
      rows = [];
    }
    if (rows.length > 0) {
      const byId = new Map(rows.map((row) => [row.event_id, row]));
      const positions = events.map(({ eventId }): EventPosition => {
        const row = byId.get(eventId)!;
        return { eventId, streamPosition: toSafeInteger(row.stream_position, 'stream position'), globalPosition: toSafeInteger(row.global_position, 'global position') };
      });
      return { nextExpectedVersion: positions[positions.length - 1]!.streamPosition, positions, replayed: false };
    }
    return this.resolveRejectedAppend(db, streamId, events, options.expectedVersion);
  }

  /** Decides whether a rejected append was a retry of a stored one (success) or a real conflict. */
  private async resolveRejectedAppend(db: Queryable, streamId: string, events: readonly NewEvent[], expectedVersion: ExpectedVersion): Promise<AppendResult> {
    const ids = events.map((event) => event.eventId);
    const { rows } = await db.query<{ event_id: string; stream_id: string; stream_position: string; global_position: string; version: string | null }>(
      `SELECT e.event_id, e.stream_id, e.stream_position, e.global_position, NULL::bigint AS version
         FROM ${this.tables.events} e WHERE e.event_id = ANY($1::uuid[])
       UNION ALL
       SELECT NULL, NULL, NULL, NULL, s.version FROM ${this.tables.streams} s WHERE s.stream_id = $2`,
      [ids, streamId],
    );
    const found: StoredEventLocation[] = rows
      .filter((row) => row.event_id !== null)
      .map((row) => ({
        eventId: row.event_id,
        streamId: row.stream_id,
        streamPosition: toSafeInteger(row.stream_position, 'stream position'),
        globalPosition: toSafeInteger(row.global_position, 'global position'),
      }));
    const versionRow = rows.find((row) => row.version !== null);
    const actual = versionRow ? toSafeInteger(versionRow.version!, 'stream version') : 0;
    const classification: RetryClassification = classifyRetry(streamId, ids, found, expectedVersion);
    const expected = requiredVersion(expectedVersion) ?? 'any';
    switch (classification.kind) {
      case 'replay':
        return {
          nextExpectedVersion: classification.positions[classification.positions.length - 1]!.streamPosition,
          positions: classification.positions,
          replayed: true,
        };
      case 'conflict':
        throw new ConcurrencyError(`stream ${streamId} is at version ${actual}, not ${String(expected)}`, { streamId, expected, actual });
      case 'misplaced':
        throw new ConcurrencyError(`stream ${streamId}: these events were appended at version ${classification.firstStoredPosition - 1}, not ${String(expected)}`, {
          streamId,
          expected,
          actual,
          appendedAtVersion: classification.firstStoredPosition - 1,
        });
      case 'partial':
        throw new ValidationError(`stream ${streamId}: some of these event ids were appended already, some not; a retry must resend the same events`, {
          streamId,
          alreadyAppended: classification.alreadyAppended,
          notAppended: classification.notAppended,
        });
      case 'foreign':
        throw new ValidationError(`event id ${classification.eventId} is already used in stream ${classification.otherStreamId}`, {
          streamId,
          eventId: classification.eventId,
          otherStreamId: classification.otherStreamId,
        });
      default: {
        const unreachable: never = classification;
        throw new Error(`unhandled retry classification ${JSON.stringify(unreachable)}`);
      }
    }
  }

  async readStream<E extends DomainEvent = DomainEvent>(streamId: string, options: ReadStreamOptions<E> = {}): Promise<ReadStreamResult<E>> {
    const fromVersion = options.fromVersion ?? 0;
    // One statement: the version and the events come from the same snapshot.
    const { rows } = await this.pool.query<Partial<EventRow> & { version: string }>(
      `SELECT s.version, ${eventColumns}
         FROM ${this.tables.streams} s
         LEFT JOIN LATERAL (
           SELECT * FROM ${this.tables.events} WHERE stream_id = s.stream_id AND stream_position > $2::bigint ORDER BY stream_position LIMIT $3::bigint
         ) e ON true
        WHERE s.stream_id = $1
        ORDER BY e.stream_position`,
      [streamId, fromVersion, options.maxCount ?? null],
    );
    if (rows.length === 0) return { streamExists: false, version: 0, events: [] };
    const events = rows.filter((row) => row.event_id !== null && row.event_id !== undefined).map((row) => toRecordedEvent(row as EventRow));
    return { streamExists: true, version: toSafeInteger(rows[0]!.version, 'stream version'), events: decodeAll(events, options.decode) };
  }

  async aggregateStream<State, E extends DomainEvent>(
    streamId: string,
    evolver: Evolver<State, E>,
    options: { readonly decode?: EventDecoder<E> } = {},
  ): Promise<AggregateStreamResult<State>> {
    const { streamExists, version, events } = await this.readStream<E>(streamId, { decode: options.decode });
    return { state: foldEvents(evolver, events), version, streamExists };
  }

  /**
   * Events of every stream, for subscriptions (projections, relays), never skipping one.
   *
   * Global positions come from a sequence, which is not transactional: a transaction may take
   * position N and commit after another took N+1, so "everything after my last position" skips N.
   * Two rules make the read safe (docs/adr/0002):
   * 1. only rows written by transactions below the xid8 horizon
   *    (`pg_snapshot_xmin(pg_current_snapshot())`) are returned: every transaction older than the
   *    horizon has ended, so no row can still appear below it;
   * 2. rows are ordered by (transaction_id, global_position), and `after` resumes from the
   *    transaction of the checkpoint event. Position order alone is not enough: a transaction
   *    that got its xid first may take a *higher* position and commit before the other ends.
   */
  async readAll(options: ReadAllOptions): Promise<ReadAllResult> {
    return this.readAllWith(this.pool, options);
  }

  /** `readAll` on a given client (a projection reads inside its batch transaction). */
  async readAllWith(db: Queryable, options: ReadAllOptions): Promise<ReadAllResult> {
    const { after, limit } = options;
    if (!Number.isSafeInteger(after) || after < 0) throw new ValidationError('after must be a non-negative integer', { after });
    if (!Number.isSafeInteger(limit) || limit < 1) throw new ValidationError('limit must be a positive integer', { limit });
    const { rows } = await db.query<EventRow & { checkpoint_found: boolean }>(
      `WITH checkpoint AS (
         SELECT COALESCE((SELECT transaction_id FROM ${this.tables.events} WHERE global_position = $1::bigint), '0'::xid8) AS transaction_id,
                $1::bigint = 0 OR EXISTS (SELECT 1 FROM ${this.tables.events} WHERE global_position = $1::bigint) AS found
       )
       SELECT ${eventColumns}, checkpoint.found AS checkpoint_found
         FROM checkpoint
         LEFT JOIN LATERAL (
           SELECT * FROM ${this.tables.events}
            WHERE (transaction_id, global_position) > (checkpoint.transaction_id, $1::bigint)
              AND transaction_id < (SELECT pg_snapshot_xmin(pg_current_snapshot()))
            ORDER BY transaction_id, global_position
            LIMIT $2::bigint
         ) e ON true`,
      [after, limit],
    );
    if (rows[0] && !rows[0].checkpoint_found) {
      // Resuming from a position that is not an event would silently restart from the beginning.
      throw new ValidationError(`checkpoint ${after} is not the position of a stored event`, { after });
    }
    const events = rows.filter((row) => row.event_id !== null).map(toRecordedEvent);
    return { events, checkpoint: events.length > 0 ? events[events.length - 1]!.globalPosition : after };
  }
}

function decodeAll<E extends DomainEvent>(events: readonly RecordedEvent[], decode: EventDecoder<E> | undefined): RecordedEvent<E>[] {
  // Without a decoder the stored shape is trusted: the writer and the reader share the event types.
  if (!decode) return events as RecordedEvent<E>[];
  return events.map(decode).filter((event): event is RecordedEvent<E> => event !== undefined);
}

/** Checks an append's input and returns the events with lower-cased ids and trace context filled in. */
function validateAppend(streamId: string, events: readonly NewEvent[], expectedVersion: ExpectedVersion): NewEvent[] {
  if (typeof streamId !== 'string' || streamId === '') throw new ValidationError('streamId is empty', { streamId });
  if (events.length === 0) throw new ValidationError('nothing to append: events is empty', { streamId });
  requiredVersion(expectedVersion);
  const seen = new Set<string>();
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return events.map((event, index) => {
    const eventId = typeof event.eventId === 'string' ? event.eventId.toLowerCase() : '';
    if (!uuidPattern.test(eventId)) throw new ValidationError('eventId must be a UUID', { streamId, index, eventId: event.eventId });
    if (seen.has(eventId)) throw new ValidationError('the same eventId appears twice in one append', { streamId, eventId });
    seen.add(eventId);
    if (typeof event.type !== 'string' || event.type === '') throw new ValidationError('event type is empty', { streamId, index });
    if (typeof event.data !== 'object' || event.data === null) throw new ValidationError('event data must be an object', { streamId, index });
    const metadata: EventMetadata = {
      ...event.metadata,
      traceparent: event.metadata.traceparent ?? carrier.traceparent,
      tracestate: event.metadata.tracestate ?? carrier.tracestate,
    };
    return { ...event, eventId, metadata };
  });
}
