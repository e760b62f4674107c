// The feature store's events as Kafka messages: `FeatureViewApplied` on
// `loopline.feature-store.feature-views.v1` and `MaterializationCompleted` on
// `loopline.feature-store.materializations.v1`, CloudEvents keyed by view name, with the event id
// as CloudEvents id so consumers deduplicate relay retries. Written to the outbox with the events.
import { create } from '@bufbuild/protobuf';
import { durationFromMs, timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  AggregationFunction,
  encodeEvent,
  FeatureValueType,
  FeatureViewAppliedSchema,
  MaterializationCompletedSchema,
} from '@loopline/contracts';
import type { NewEvent, OutboxMessage } from '@loopline/eventsourcing';
import type { DefinitionEvent } from '../../domain/definitions/definition-stream';
import type { AggregationFunction as DomainAggregation, ValueType } from '../../domain/definitions/definitions';
import type { MaterializationRecord } from '../../application/ports';

export const featureViewsTopic = 'loopline.feature-store.feature-views.v1';
export const materializationsTopic = 'loopline.feature-store.materializations.v1';
export const featureStoreSource = '/loopline/feature-store';

const valueTypes: Record<ValueType, FeatureValueType> = {
  int64: FeatureValueType.INT64,
  double: FeatureValueType.DOUBLE,
  string: FeatureValueType.STRING,
  bool: FeatureValueType.BOOL,
  timestamp: FeatureValueType.TIMESTAMP,
};

const aggregations: Record<DomainAggregation, AggregationFunction> = {
  count: AggregationFunction.COUNT,
  sum: AggregationFunction.SUM,
  mean: AggregationFunction.MEAN,
  min: AggregationFunction.MIN,
  max: AggregationFunction.MAX,
};

export function featureViewOutboxMessage(event: NewEvent<DefinitionEvent> & { readonly type: 'FeatureViewApplied' }): OutboxMessage {
  const { data } = event;
  const message = create(FeatureViewAppliedSchema, {
    viewName: data.name,
    viewVersion: data.version,
    definitionHash: data.hash,
    previousViewVersion: data.previousVersion,
    entityNames: [...data.definition.entities],
    features: data.definition.features.map((feature) => ({
      name: feature.name,
      valueType: valueTypes[feature.type],
      description: feature.description,
      expression: feature.expression,
      aggregation: feature.aggregation ? aggregations[feature.aggregation.function] : AggregationFunction.UNSPECIFIED,
      window: feature.aggregation ? durationFromMs(feature.aggregation.windowSeconds * 1000) : undefined,
    })),
    sourceName: data.definition.source,
    timestampColumn: data.definition.timestampColumn,
    ttl: data.definition.ttlSeconds === null ? undefined : durationFromMs(data.definition.ttlSeconds * 1000),
    online: data.definition.online,
    description: data.definition.description,
    actor: data.actor,
    appliedAt: timestampFromMs(Date.parse(data.appliedAt)),
  });
  const encoded = encodeEvent({
    topic: featureViewsTopic,
    key: data.name,
    id: event.eventId,
    source: featureStoreSource,
    time: new Date(data.appliedAt),
    subject: `${data.name}/${data.version}`,
    message,
  });
  return { topic: featureViewsTopic, key: encoded.key, value: encoded.value, headers: encoded.headers, eventId: event.eventId };
}

export function materializationOutboxMessage(record: MaterializationRecord, eventId: string): OutboxMessage {
  const completedAt = Date.parse(record.completedAt ?? record.startedAt);
  const message = create(MaterializationCompletedSchema, {
    materializationId: record.id,
    viewName: record.view,
    viewVersion: record.viewVersion,
    datasetVersionId: record.datasetVersionId,
    // The proto range is half-open: the end is one millisecond after the last row.
    eventTimeRange: record.eventTimeRange ? { start: timestampFromMs(record.eventTimeRange.startMs), end: timestampFromMs(record.eventTimeRange.endMs + 1) } : undefined,
    offlineRowCount: BigInt(record.offlineRowCount),
    onlineRowCount: BigInt(record.onlineRowCount),
    startedAt: timestampFromMs(Date.parse(record.startedAt)),
    completedAt: timestampFromMs(completedAt),
  });
  const encoded = encodeEvent({
    topic: materializationsTopic,
    key: record.view,
    id: eventId,
    source: featureStoreSource,
    time: new Date(completedAt),
    subject: `${record.view}/${record.viewVersion}`,
    message,
  });
  return { topic: materializationsTopic, key: encoded.key, value: encoded.value, headers: encoded.headers, eventId };
}
