// Kafka keys whose spelling is part of a contract, so that every producer spells them alike and
// messages about the same entity land on the same partition, in order.
import type { LabelReceived } from './gen';

/**
 * The canonical text of a set of entity keys: `name=value` pairs, each part URI-encoded, sorted
 * by name and joined with `&`, e.g. `flight=AA100-2001-03-04&origin=ATL`.
 */
export function entityKey(entityKeys: Readonly<Record<string, string>>): string {
  return Object.entries(entityKeys)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
    .join('&');
}

/** The key of a label on `loopline.feedback.labels.v1`: its prediction id, else its entity key. */
export function labelKey(label: Pick<LabelReceived, 'predictionId' | 'entityKeys'>): string {
  return label.predictionId !== '' ? label.predictionId : entityKey(label.entityKeys);
}
