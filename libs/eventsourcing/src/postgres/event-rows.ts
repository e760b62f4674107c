import type { EventMetadata, RecordedEvent } from '../events/event';
import { toSafeInteger } from './sql';

/** The columns every event read selects, in the order `toRecordedEvent` expects. */
export const eventColumns = 'e.global_position, e.stream_id, e.stream_position, e.event_id, e.event_type, e.data, e.metadata, e.recorded_at';

export interface EventRow {
  global_position: string;
  stream_id: string;
  stream_position: string;
  event_id: string;
  event_type: string;
  data: object;
  metadata: EventMetadata;
  recorded_at: Date;
}

export function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    type: row.event_type,
    data: row.data,
    eventId: row.event_id,
    streamId: row.stream_id,
    streamPosition: toSafeInteger(row.stream_position, 'stream position'),
    globalPosition: toSafeInteger(row.global_position, 'global position'),
    metadata: row.metadata,
    recordedAt: row.recorded_at,
  };
}
